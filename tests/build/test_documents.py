"""Bad documents and folders: a one-line BuildError naming the file (and line where it applies)."""

import pytest

from fhir_ire.errors import BuildError
from fhir_ire.checks.reading import check_reading
from fhir_ire.sources import read_source, read_sources


@pytest.mark.parametrize("content, message", [
    (b"", "document is empty"),
    (b"  \n\t\n  ", "document is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "binary"),
    ("Summary & Overview\nCPT 0600T: Caf\u00e9 ablation\n".encode("latin-1"), "not valid UTF-8"),
], ids=["empty", "whitespace", "binary", "latin-1"])
def test_bad_document_is_one_line_error_naming_file(tmp_path, content, message):
    path = tmp_path / "doc.txt"
    path.write_bytes(content)
    with pytest.raises(BuildError, match=message) as err:
        read_source(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_non_utf8_error_names_line(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(b"Summary & Overview\nline two\nCaf\xe9\n")
    with pytest.raises(BuildError, match=r"doc\.txt:3: document is not valid UTF-8"):
        read_source(path)


def test_letter_is_left_out_not_refused(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(b"Dear colleague,\nThank you for the lovely lunch last week. See you at the conference.\n")
    doc = read_source(path)
    assert doc.status == "left out" and "not a code report" in doc.left_out


def test_short_table_row_is_a_finding_naming_its_line(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("Summary & Overview\nCPT 0600T: Percutaneous IRE\nBilling Code Overview\nCPT code 0600T describes x.\n"
                    "Clinical & Coding Specifications\n| Modifier | Description | When to Use |\n|---|---|---|\n"
                    "22 | Increased procedural services | Use when more work. |\n52 | Reduced serv\n")
    doc = read_source(path)
    assert [m.code for m in doc.facts if m.kind == "modifier"] == ["22"]
    (finding,) = [f for f in check_reading([doc]) if f.code == "table-row-short"]
    assert finding.source.line == 9


def test_missing_folder(tmp_path):
    with pytest.raises(BuildError, match="source folder not found"):
        read_sources(tmp_path / "nope")


def test_empty_folder(tmp_path):
    with pytest.raises(BuildError, match="no documents"):
        read_sources(tmp_path)


@pytest.mark.parametrize("prefix, kind", [("000", "code-report"), ("001", "code-report"), ("002", "reimbursement-guide"),
                                          ("003", "payer-policy"), ("004", "code-report")])
def test_kind_is_chosen_by_content_not_name(seeds, tmp_path, prefix, kind):
    original = next(seeds.glob(prefix + "*"))
    renamed = tmp_path / "renamed-document.dat"
    renamed.write_bytes(original.read_bytes())
    assert read_source(renamed).kind == kind
