"""Every QA finding kind, on the seeds where they occur and on constructed facts where they do not."""

from datetime import date

import pytest

from fhir_ire.checks.codes import check_codes, check_icd, find_taxonomy
from fhir_ire.checks.consistency import check_descriptors, check_payments
from fhir_ire.codesets.nucc import read_nucc
from fhir_ire.errors import BuildError
from fhir_ire.facts import CodeDescription, DocumentFacts, Payment, Source, TaxonomyRow
from fhir_ire.uris import CPT


def src(file="x.txt", line=1, quote="q"):
    return Source(file, line, line, quote)


def by_code(findings, code):
    return {(f.value, f.source.line if f.source else None) for f in findings if f.code == code}


def test_seed_icd_findings(seed_build):
    findings = seed_build[2]
    assert by_code(findings, "icd-display-mismatch") == {("C64.1", 41), ("C64.2", 42)}
    assert by_code(findings, "icd-not-billable") == {("C34.9", 43)}
    assert by_code(findings, "icd-unknown") == set()


def test_seed_nucc_findings(seed_build):
    findings = seed_build[2]
    assert {v for v, _ in by_code(findings, "nucc-specialty-mismatch")} == \
        {"208800000X", "208600000X", "207P00000X", "207L00000X", "207K00000X"}


def test_seed_descriptor_conflict_for_0600t_only(seed_build):
    conflicts = [f for f in seed_build[2] if f.code == "descriptor-conflict"]
    assert {f.value for f in conflicts} == {"0600T"}
    assert all("other than the liver or prostate" in f.source_says for f in conflicts)


def test_seed_stale_payments_and_cut_tables(seed_build):
    findings = seed_build[2]
    assert {v for v, _ in by_code(findings, "payment-stale")} == {"0600T", "0601T"}
    assert {f.source.file[:3] for f in findings if f.code == "table-cut-off"} == {"000", "001", "004"}
    assert len([f for f in findings if f.code == "data-not-available"]) == 3


def test_icd_unknown_code():
    (f,) = check_icd("C99.99", "Made-up neoplasm", src())
    assert (f.severity, f.code, f.value) == ("error", "icd-unknown", "C99.99")


def test_icd_description_word_order_does_not_matter():
    assert check_icd("C78.00", "Secondary malignant neoplasm of lung, unspecified", src()) == []


def test_nucc_unknown_in_a_given_release_and_in_the_embedded_one(nucc_sample):
    """Every build has a NUCC table (--nucc, else the release embedded in the package): taxonomy codes are always
    checked, never skipped."""
    from fhir_ire.codesets.nucc import load_nucc

    row = TaxonomyRow(source=src(), procedure="0600T", code="9999X0000X", specialty="Radiology", notes="")
    doc = DocumentFacts("x.txt", "code-report", "t", "0" * 64, 1, [row])
    (f,) = check_codes([doc], read_nucc(nucc_sample))
    assert (f.severity, f.code) == ("error", "nucc-unknown")
    (f,) = check_codes([doc], load_nucc(None))
    assert (f.severity, f.code) == ("error", "nucc-unknown")


def test_taxonomy_found_by_specialty_name(nucc_sample):
    nucc = read_nucc(nucc_sample)
    assert find_taxonomy("Interventional Radiology", nucc).code == "2085R0204X"
    assert find_taxonomy("Otolaryngology (ENT)", nucc).code == "207Y00000X"
    assert find_taxonomy("Urology", nucc).code == "208800000X"
    assert find_taxonomy("Astrology", nucc) is None


def test_payment_conflict_and_stale():
    a = Payment(source=src("a.txt"), code="0600T", setting="asc", year=2024, amount=100.0)
    b = Payment(source=src("b.txt"), code="0600T", setting="asc", year=2024, amount=120.0)
    docs = [DocumentFacts("a.txt", "reimbursement-guide", "A", "0" * 64, 1, [a]),
            DocumentFacts("b.txt", "reimbursement-guide", "B", "0" * 64, 1, [b])]
    codes = [f.code for f in check_payments(docs, date(2025, 6, 1), 2)]
    assert codes == ["payment-conflict"]
    codes = [f.code for f in check_payments(docs, date(2030, 6, 1), 2)]
    assert codes.count("payment-stale") == 2


def test_descriptor_conflict_on_approach():
    d1 = CodeDescription(source=src("a.txt"), system=CPT, code="0601T", role="formal", text="Ablation; open")
    d2 = CodeDescription(source=src("b.txt"), system=CPT, code="0601T", role="descriptor",
                         text="A percutaneous ablation of a tumor")
    docs = [DocumentFacts("a.txt", "reimbursement-guide", "A", "0" * 64, 1, [d1]),
            DocumentFacts("b.txt", "code-report", "B", "0" * 64, 1, [d2])]
    (f,) = check_descriptors(docs)
    assert f.code == "descriptor-conflict" and f.value == "0601T"


def test_nucc_csv_errors(tmp_path):
    bad = tmp_path / "n.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(BuildError, match="not a NUCC taxonomy CSV"):
        read_nucc(bad)
    with pytest.raises(BuildError, match="cannot read NUCC"):
        read_nucc(tmp_path / "missing.csv")
