"""The layout model: any rendering of a document as blocks with line spans (headings, paragraphs, list items, tables,
fields), emphasis and glyphs never hiding a sentence, quotes always verbatim."""

import pytest

from fhir_ire.sources.layout import read_layout
from fhir_ire.sources.text import Passage, sentences


def blocks(text: str):
    return read_layout("f.txt", text.split("\n")).blocks


def kinds(text: str):
    return [(b.kind, b.clean if b.kind != "field" else (b.label, b.value.clean)) for b in blocks(text)]


def test_rows_with_and_without_leading_pipes_make_one_table():
    (t,) = blocks("| Code | Name | Note |\n|---|---|---|\n| A | a | x |\nB | b | y |\nC | c | z\n\nafter")[:1]
    assert t.kind == "table" and t.header
    assert [[c.clean for c in r.cells] for r in t.rows] == [["Code", "Name", "Note"], ["A", "a", "x"],
                                                            ["B", "b", "y"], ["C", "c", "z"]]
    assert [r.line for r in t.rows] == [1, 3, 4, 5]


def test_next_table_header_ends_the_previous_table():
    a, b = blocks("| M | D |\n|---|---|\n22 | x |\n| T | S |\n|---|---|\n| 1 | y |\n")
    assert [r.line for r in a.rows] == [1, 3] and [c.clean for c in b.rows[0].cells] == ["T", "S"]


@pytest.mark.parametrize("text, expected", [
    ("Number: | S-164 |", [("Number", "S-164")]),
    ("| Policy Code | MM 0575 |", [("Policy Code", "MM 0575")]),
    ("Guideline #: CG-MED-81 | Publish Date: 01/03/2024 |", [("Guideline #", "CG-MED-81"),
                                                            ("Publish Date", "01/03/2024")]),
    ("Document #: SURG.00126Publish Date: 10/01/2024", [("Document #", "SURG.00126"), ("Publish Date", "10/01/2024")]),
    ("Effective Date: 08/01/2011 Title: Liver Neoplasms Treatment", [("Effective Date", "08/01/2011"),
                                                                    ("Title", "Liver Neoplasms Treatment")]),
    ("Policy # 00182 Original Effective Date: 09/22/2005", [("Policy #", "00182"),
                                                            ("Original Effective Date", "09/22/2005")]),
    ("Medical Policy:\nS-141-016", [("Medical Policy", "S-141-016")]),
    ("Effective Date\n\n01/03/2024", [("Effective Date", "01/03/2024")]),
    ("Revision Date(s) 12/09/13; 04/08/13", [("Revision Date(s)", "12/09/13; 04/08/13")]),
    ("**Service type:** Percutaneous ablation", [("Service type", "Percutaneous ablation")]),
    ("- Typical site of service: Hospital outpatient department", [("Typical site of service",
                                                                     "Hospital outpatient department")]),
], ids=["key-value-row", "key-value-table", "fields-in-cells", "run-in-label", "two-fields", "label-without-colon",
        "value-next-line", "value-after-blank", "list-of-dates", "bold-label", "bulleted-field"])
def test_fields_in_any_layout(text, expected):
    assert [(b.label, b.value.clean) for b in blocks(text) if b.kind == "field"] == expected


def test_a_label_is_not_read_in_a_sentence():
    assert kinds("CPT code 20982 stands for percutaneous ablation of bone tumors.")[0][0] == "paragraph"
    assert kinds("Note: Treatment for benign prostatic hypertrophy (BPH) is outside the scope of this document.")[0][0] \
        == "paragraph"


def test_lists_numbered_lettered_roman_and_glyphs_with_levels():
    text = ("I.  For the following indications, X may be considered:\n\n  • When both of the following:\n"
            "    1. First one; and\n    2. Second one\n  ▪ Another\na) lettered\n(ii) roman")
    items = [(b.level, b.clean) for b in blocks(text) if b.kind == "item"]
    assert items == [(0, "For the following indications, X may be considered:"), (1, "When both of the following:"),
                     (2, "First one; and"), (2, "Second one"), (1, "Another"), (0, "lettered"), (0, "roman")]


def test_bullets_run_into_a_paragraph_become_items_on_the_same_line():
    (lead, a, b) = blocks("Covered only if: • The contract provides benefits, and • Criteria are met.")
    assert (lead.kind, a.kind, b.kind) == ("paragraph", "item", "item")
    assert a.clean == "The contract provides benefits, and" and b.line == 1


def test_wrapped_lines_join_into_one_paragraph_but_sentences_per_line_do_not():
    (p,) = blocks("The AMA approved two codes for reporting of\npercutaneous and open ablation of tumors.")
    assert (p.line, p.end_line) == (1, 2)
    assert len(blocks("One sentence ends here.\nAnother one starts here.")) == 2


def test_a_cell_broken_over_lines_continues_its_row():
    t = blocks("| A | B |\n|---|---|\n| x | first half\nsecond half |\n")[0]
    assert [c.clean for c in t.rows[-1].cells] == ["x", "first half second half"]


def test_tab_separated_rows_are_a_table():
    (t,) = blocks("Code\tDescription\n0600T\tAblation, percutaneous")
    assert t.kind == "table" and t.rows[1].cells[0].clean == "0600T"


def test_emphasis_never_hides_a_sentence_and_quotes_stay_verbatim():
    p = Passage("f.txt", [(3, "Treatment will **not** be covered."), (4, "**Prior authorization is required.**")])
    assert p.clean == "Treatment will not be covered. Prior authorization is required."
    start = p.clean.index("Prior")
    src = p.source(start)
    assert (src.line, src.quote) == (4, "Prior authorization is required.")
    assert p.source(0, p.clean.index(".") + 1).quote == "Treatment will **not** be covered."


def test_sentences_keep_abbreviations_and_drop_run_in_headings():
    text = "Nothing here is advice. POLICY For adults (eg, brain cancer) X is covered. Y (i.e. Z) is not."
    assert [text[a:z] for a, z in sentences(text)] == ["Nothing here is advice.",
                                                       "For adults (eg, brain cancer) X is covered.",
                                                       "Y (i.e. Z) is not."]


def test_headings_and_sections():
    bs = blocks("Coverage Determination\n\nX is covered.\n\nCoding\n\n20982\n")
    assert [(b.kind, b.section) for b in bs] == [("heading", "Coverage Determination"),
                                                 ("paragraph", "Coverage Determination"), ("heading", "Coding"),
                                                 ("paragraph", "Coding")]


def test_a_document_cut_mid_sentence_is_truncated():
    assert read_layout("f", ["A sentence.", "Another that stops mid"]).truncated
    assert not read_layout("f", ["A sentence.", ""]).truncated


# -- layouts met in the held-out set (tests/build/fixtures/holdout) -------------------------------------------------

def test_pdf_private_use_bullets_are_list_items():
    items = [b for b in blocks("Covered when all are met:\n\uf0b7 First, wrapped\nover a line\n\uf0b7 Second")
             if b.kind == "item"]
    assert [i.clean for i in items] == ["First, wrapped over a line", "Second"]


def test_unindented_lists_nest_by_numbering_style():
    text = ("I. Lead, when ALL of the following are met:\nA. one;\nB. two\nII. Next statement.\n"
            "1. First;\n2. One of the following:\na. x; or\nb. y; and\n3. Third.")
    assert [(b.level, b.marker) for b in blocks(text) if b.kind == "item"] == [
        (0, "I."), (1, "A."), (1, "B."), (0, "II."), (0, "1."), (0, "2."), (1, "a."), (1, "b."), (0, "3.")]


def test_emphasised_markers_and_quotes_keep_their_emphasis():
    text = "**A.** X covers it when ALL of the following are met:\n\n**B.** Other."
    a, b = [x for x in blocks(text) if x.kind == "item"]
    assert a.clean.startswith("X covers") and b.clean == "Other."
    (p,) = blocks("**Prior authorization is not required** for CPT 20982.")
    assert p.text.source(0, len(p.clean)).quote == "**Prior authorization is not required** for CPT 20982."


def test_dotted_leaders_join_a_label_and_its_value_and_toc_lines_are_entries():
    found = kinds("Effective Date ........ 11/15/2024\nCoverage Policy Number ..... 0563\nOverview ........ 1")
    assert found == [("field", ("Effective Date", "11/15/2024")), ("field", ("Coverage Policy Number", "0563")),
                     ("paragraph", "Overview ........ 1")]


def test_tab_tables_of_labels_and_values_are_fields():
    assert kinds("Code\t0600T\nLong descriptor\tAblation, irreversible electroporation\nGlobal period\tXXX") == [
        ("field", ("Code", "0600T")), ("field", ("Long descriptor", "Ablation, irreversible electroporation")),
        ("field", ("Global period", "XXX"))]
    assert kinds("Policy Number\tEffective Date\tLast Review Date\nMG.1\t05/01/2025\t03/13/2025") == [
        ("field", ("Policy Number", "MG.1")), ("field", ("Effective Date", "05/01/2025")),
        ("field", ("Last Review Date", "03/13/2025"))]


def test_a_check_table_under_a_label_is_its_value():
    (f,) = blocks("Applicable line of business:\nCommercial\tX\nMedicare\tX\nCHIP\nExchange\tX")
    assert (f.kind, f.label, f.value.clean) == ("field", "Applicable line of business", "Commercial Medicare Exchange")


def test_a_date_under_its_label_in_a_sentence():
    assert kinds("Original Effective Date\nFor services performed on or after 02/09/2025") == [
        ("field", ("Original Effective Date", "For services performed on or after 02/09/2025"))]


def test_page_furniture_does_not_open_a_section():
    bs = blocks("Coverage Rationale\nX is covered.\n\nAblative Treatment Page 1 of 14\nY is not covered.")
    assert bs[-1].section == "Coverage Rationale"
