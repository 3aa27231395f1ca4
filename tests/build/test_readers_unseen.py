"""Readers on documents written by someone else from the seeds' kinds, to the facts listed in
tests/build/fixtures/docs/EXPECTED.md; and the damaged documents in tests/build/fixtures/damaged."""

from pathlib import Path

import pytest

from fhir_ire.errors import BuildError
from fhir_ire.sources import read_source

from .conftest import facts_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def read(name):
    return read_source(FIXTURES / "docs" / name)


def fields(doc):
    out = {}
    for f in facts_of(doc, "policy-field"):
        out.setdefault(f.name, f.value)
    return out


def test_histotripsy_report():
    doc = read("report-0686t-histotripsy.txt")
    assert {f.role for f in facts_of(doc, "code-description") if f.code == "0686T"} == {"title", "descriptor", "summary"}
    assert [p.name for p in facts_of(doc, "payer-mention")] == \
        ["Humana", "Highmark Blue Cross Blue Shield", "Oscar Health", "Medicaid"]
    attrs = {a.name: (a.value, a.source.line) for a in facts_of(doc, "code-attribute")}
    assert attrs["service-type"] == ("Noninvasive focused-ultrasound tumor ablation (histotripsy)", 8)
    assert attrs["site-of-service"][1] == 9
    assert [(n.code, n.others) for n in facts_of(doc, "not-reported-with")] == \
        [("0686T", ("76940", "76942", "76998", "77013"))]
    assert [m.code for m in facts_of(doc, "modifier")] == ["26", "59", "XS", "78", "GA"]
    assert [(t.code, t.source.line) for t in facts_of(doc, "taxonomy")] == \
        [("2085R0204X", 25), ("2086X0206X", 26), ("207RG0100X", 27), ("207RX0202X", 28)]
    assert [d.code for d in facts_of(doc, "diagnosis")] == ["C22.0", "C22.1", "C78.7", "K74.60", "C22"]
    assert [r.code for r in facts_of(doc, "related-code")] == ["47382", "47383", "47000", "76940", "74183"]
    assert facts_of(doc, "table-cut-off") == []


def test_reordered_report_with_and_in_a_payer_name():
    doc = read("report-0600t-reordered.txt")
    assert [p.name for p in facts_of(doc, "payer-mention")] == \
        ["Kaiser Permanente", "Wellmark Blue Cross and Blue Shield", "Molina Healthcare", "TRICARE"]
    descs = {f.role: f.source.line for f in facts_of(doc, "code-description")}
    assert descs == {"title": 2, "descriptor": 27, "summary": 3}
    assert facts_of(doc, "taxonomy") == [] and [m.section for m in facts_of(doc, "missing-data")] == \
        ["Provider Taxonomy Codes"]
    assert [(c.table, c.rows) for c in facts_of(doc, "table-cut-off")] == [("related-codes", 3)]
    assert [d.code for d in facts_of(doc, "diagnosis")] == ["C25.1", "C25.0", "C25.8", "C64.1"]
    assert facts_of(doc, "not-reported-with") == []


def test_criteria_policy_with_history_and_disclaimers():
    doc = read("policy-silverpine-ire.txt")
    f = fields(doc)
    assert f["title"] == "Irreversible Electroporation (NanoKnife) for Unresectable Pancreatic Cancer"
    assert (f["payer"], f["number"], f["line-of-business"]) == ("Silverpine Mutual Health", "SMH-ONC-117", "Commercial")
    assert (f["effective-date"], f["original-effective-date"], f["next-review-date"]) == \
        ("2025-04-01", "2023-07-01", "2026-02")
    assert "Silverpine" in [x.value for x in facts_of(doc, "policy-field") if x.name == "alias"]
    assert [(s.category, s.scope, s.source.line) for s in facts_of(doc, "coverage-statement")] == \
        [("covered-with-criteria", "all", 24), ("investigational", "other-indications", 33)]
    criteria = facts_of(doc, "criterion")
    assert len(criteria) == 5 and criteria[0].text.endswith("within the last 45 days;")
    assert (criteria[0].source.line, criteria[0].source.end_line) == (26, 27)
    (pa,) = facts_of(doc, "prior-authorization")
    assert pa.required and len(pa.items) == 5 and pa.items[-1] == "Documented ECOG performance status"
    assert [s.topic for s in facts_of(doc, "statement")] == ["no-ncd"]
    assert [c.code for c in facts_of(doc, "governed-code")] == ["0600T", "0601T", "C25.0", "C25.1", "C25.2", "C25.8"]


def test_investigational_guideline_with_code_type_column():
    doc = read("policy-tidewater-cryo.txt")
    f = fields(doc)
    assert (f["title"], f["number"], f["alias"]) == ("Cryoablation of Malignant Breast Tumors", "TCHP-CCG-0309", "TCHP")
    assert [s.category for s in facts_of(doc, "coverage-statement")] == ["investigational"]
    codes = [(c.system.rsplit("/", 1)[-1], c.code) for c in facts_of(doc, "governed-code")]
    assert codes == [("cpt", "0581T"), ("icd-10-cm", "C50.411"), ("icd-10-cm", "C50.412"), ("icd-10-cm", "D05.11"),
                     ("icd-10-cm", "D05.12")]  # 19105, named in prose, is not governed


def test_guide_with_na_payments_and_bulleted_documentation():
    doc = read("guide-2025-cryo-laser.txt")
    pays = {(p.code, p.setting): p for p in facts_of(doc, "payment")}
    assert all(p.year == 2025 for p in pays.values())
    assert pays[("0581T", "physician-non-facility")].amount is None
    assert (pays[("0581T", "physician-facility")].amount, pays[("0581T", "physician-facility")].rvu) == (319.26, 9.87)
    assert (pays[("0673T", "hospital-outpatient")].apc, pays[("0673T", "hospital-outpatient")].indicator) == \
        ("5072", "T")
    assert [n.others for n in facts_of(doc, "not-reported-with") if n.code == "0581T"] == \
        [("19083", "19285", "76641", "76642", "76942")]
    docs = next(s for s in facts_of(doc, "statement") if s.topic == "documentation" and s.items)
    assert len(docs.items) == 5 and docs.items[2].startswith("A letter of medical necessity")
    contra = [w.text for w in facts_of(doc, "device-warning") if w.type == "contraindication"]
    assert len(contra) == 4 and contra[1] == "Pregnancy"


@pytest.mark.parametrize("name, message", [
    ("empty.txt", "document is empty"), ("whitespace-only.txt", "document is empty"),
    ("binary.bin", "binary"), ("latin1.txt", r"latin1\.txt:3: document is not valid UTF-8"),
])
def test_unreadable_documents_stop_the_build(name, message):
    with pytest.raises(BuildError, match=message):
        read_source(FIXTURES / "damaged" / name)


def test_text_of_no_known_kind_is_left_out_with_the_reason():
    doc = read_source(FIXTURES / "damaged" / "unknown-kind.txt")
    assert doc.status == "left out" and doc.facts == []
    assert doc.left_out.startswith("not a code report, reimbursement guide or payer policy")


def test_short_table_row_is_left_out_and_reported_the_rest_is_read():
    doc = read_source(FIXTURES / "damaged" / "truncated-row.txt")
    assert doc.kind == "code-report"
    short = [f for f in facts_of(doc, "table-cut-off") if f.rows < 0]
    assert [(f.table, f.source.line) for f in short] == [("modifiers", 18)]
    assert [m.code for m in facts_of(doc, "modifier")] == ["50", "RT", "LT"]
    assert facts_of(doc, "taxonomy") and facts_of(doc, "diagnosis")  # the tables after the damaged row are read
