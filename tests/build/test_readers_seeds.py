"""Each reader on the seed documents: the facts a coding team needs, each with file, lines and a verbatim quote."""

import pytest

from .conftest import facts_of, read_seed


@pytest.fixture(scope="module")
def report_0600t():
    return read_seed("001")


@pytest.fixture(scope="module")
def guide():
    return read_seed("002")


@pytest.fixture(scope="module")
def policy():
    return read_seed("003")


def test_code_report_code_title_descriptor(report_0600t):
    descs = {f.role: f for f in facts_of(report_0600t, "code-description")}
    assert descs["title"].code == "0600T"
    assert descs["title"].text == "Percutaneous Irreversible Electroporation Tumor Ablation"
    assert "other than the liver or prostate" in descs["descriptor"].text
    assert descs["descriptor"].source.line == 7


def test_code_report_service_type_and_site(report_0600t):
    attrs = {f.name: f.value for f in facts_of(report_0600t, "code-attribute")}
    assert attrs["service-type"] == "Minimally invasive tumor ablation using irreversible electroporation"
    assert attrs["site-of-service"].startswith("Hospital outpatient department or ambulatory surgical center")
    assert attrs["approach"] == "percutaneous"


def test_code_report_payers(report_0600t):
    names = [f.name for f in facts_of(report_0600t, "payer-mention")]
    assert names == ["Aetna", "Blue Cross Blue Shield", "Cigna Health", "UnitedHealthcare", "Medicare"]


def test_code_report_tables(report_0600t):
    mods = facts_of(report_0600t, "modifier")
    assert [m.code for m in mods] == ["22", "23", "51", "52", "53", "62", "66", "78", "80", "81", "82", "AS", "QX"]
    assert mods[0].when_to_use.startswith("Use when the IRE procedure required substantially greater work")
    tax = facts_of(report_0600t, "taxonomy")
    assert [(t.code, t.specialty) for t in tax][:2] == [("208800000X", "Interventional Radiology"),
                                                        ("208600000X", "Diagnostic Radiology")]
    dx = facts_of(report_0600t, "diagnosis")
    assert [d.code for d in dx] == ["C64.1", "C64.2", "C34.9", "C78.00", "C18.9"]
    assert dx[0].description == "Malignant neoplasm of upper pole of right kidney" and dx[0].source.line == 41
    rel = facts_of(report_0600t, "related-code")
    assert [r.code for r in rel] == ["32550", "49082", "76942", "77012", "99213"]
    assert rel[2].relationship.startswith("Reported when separate, identifiable ultrasound guidance")


def test_every_fact_quotes_its_source_lines(report_0600t, guide, policy, seeds):
    for doc in (report_0600t, guide, policy):
        lines = (seeds / doc.file).read_text(encoding="utf-8").split("\n")
        for f in doc.facts:
            text = " ".join(" ".join(lines[f.source.line - 1: f.source.end_line]).split())
            assert f.source.quote and f.source.quote in text, (doc.file, f)


def test_cut_off_tables_and_missing_data():
    cut = facts_of(read_seed("004"), "table-cut-off")
    assert [(c.table, c.rows) for c in cut] == [("modifiers", 0)]
    missing = facts_of(read_seed("000"), "missing-data")
    assert [m.source.line for m in missing] == [5, 10]


def test_guide_descriptors_and_edits(guide):
    formal = {f.code: f.text for f in facts_of(guide, "code-description")}
    assert formal["0600T"] == ("Ablation, irreversible electroporation; 1 or more tumors per organ, including imaging "
                               "guidance, when performed, percutaneous")
    assert formal["0601T"].endswith("fluoroscopic and ultrasound guidance, when performed, open")
    edits = {f.code: f.others for f in facts_of(guide, "not-reported-with")}
    assert edits == {"0600T": ("76940", "77002", "77013", "77022"), "0601T": ("76940", "77002")}


def test_guide_payments(guide):
    pays = {(p.code, p.setting): p for p in facts_of(guide, "payment")}
    opps = pays[("0600T", "hospital-outpatient")]
    assert (opps.amount, opps.apc, opps.indicator, opps.year) == (9096.46, "5362", "J1", 2022)
    asc = pays[("0601T", "asc")]
    assert (asc.amount, asc.indicator) == (5063.52, "J8")
    assert pays[("0600T", "physician-facility")].amount is None
    assert pays[("0600T", "physician-facility")].note == "No national set payment"


def test_guide_statements_and_device_warnings(guide):
    topics = {s.topic for s in facts_of(guide, "statement")}
    assert {"category-iii", "contractor-priced", "documentation"} <= topics
    items = [i for s in facts_of(guide, "statement") if s.topic == "documentation" for i in s.items]
    assert "letter of medical necessity" in items and "progress notes" in items
    contra = [w.text for w in facts_of(guide, "device-warning") if w.type == "contraindication"]
    assert "Patient history of Epilepsy or Cardiac Arrhythmia" in contra and len(contra) == 5
    adverse = [w.text for w in facts_of(guide, "device-warning") if w.type == "adverse-effect"]
    assert "Atrial fibrillation or flutter" in adverse and "Venous Thrombosis" in adverse


def test_policy_fields(policy):
    fields = {}
    for f in facts_of(policy, "policy-field"):
        fields.setdefault(f.name, f.value)
    assert fields["payer"] == "Independent Care Health Plan"
    assert fields["alias"] == "iCare"
    assert fields["number"] == "WI.PA-1266"
    assert fields["line-of-business"] == "Medicare"
    assert fields["product"] == "Medicare Advantage"
    assert (fields["effective-date"], fields["revision-date"], fields["review-date"]) == \
        ("2024-10-08", "2024-10-08", "2024-09-24")


def test_policy_coverage_and_codes(policy):
    statements = facts_of(policy, "coverage-statement")
    assert [s.category for s in statements] == ["not-covered"]
    assert "not be considered medically reasonable and necessary for any indication" in statements[0].text
    assert statements[0].source.line == 60
    assert [(c.system.rsplit("/", 1)[-1], c.code) for c in facts_of(policy, "governed-code")] == \
        [("cpt", "0600T"), ("cpt", "0601T")]
    assert [s.topic for s in facts_of(policy, "statement")] == ["no-ncd"]
    assert facts_of(policy, "prior-authorization") == []
