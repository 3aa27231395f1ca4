"""The readers on documents they were not written against: our own synthetic code reports, policies and guide,
with other codes, payers, wording and layouts (tests/build/fixtures/synthetic)."""

from pathlib import Path

import pytest

from fhir_ire.build.command import output_files
from fhir_ire.sources import read_source

from .conftest import AS_OF, SEEDS, facts_of

SYNTHETIC = Path(__file__).resolve().parent / "fixtures" / "synthetic"


def read(name):
    return read_source(SYNTHETIC / name)


def test_another_category_iii_code_report():
    doc = read("report-0673t.txt")
    assert doc.kind == "code-report"
    assert {f.role: f.code for f in facts_of(doc, "code-description")} == \
        {"title": "0673T", "descriptor": "0673T", "summary": "0673T"}
    assert [p.name for p in facts_of(doc, "payer-mention")] == ["Humana", "Anthem Blue Cross", "Medicare"]
    assert [m.code for m in facts_of(doc, "modifier")] == ["50", "59"]
    assert [t.code for t in facts_of(doc, "taxonomy")] == ["207RE0101X", "2085R0204X", "207Y00000X"]  # no leading |
    assert [d.code for d in facts_of(doc, "diagnosis")] == ["E04.1", "E04.2", "E04"]
    assert [(n.code, n.others) for n in facts_of(doc, "not-reported-with")] == [("0673T", ("76942", "76940"))]


def test_report_variant_with_other_order_missing_table_and_cut_off():
    doc = read("report-0600t-variant.txt")
    assert [m.section for m in facts_of(doc, "missing-data")] == ["Taxonomy Codes"]
    descs = {f.role: f.source.line for f in facts_of(doc, "code-description")}
    assert descs == {"title": 2, "descriptor": 9, "summary": 3}
    attrs = {f.name: f.value for f in facts_of(doc, "code-attribute")}
    assert attrs["service-type"] == "Percutaneous nonthermal tumor ablation"  # bulleted "- Service type:"
    assert [(c.table, c.rows) for c in facts_of(doc, "table-cut-off")] == [("related-codes", 2)]


def test_policy_covering_with_criteria_and_prior_authorization():
    doc = read("policy-northwind-ire.txt")
    fields = {f.name: f.value for f in reversed(facts_of(doc, "policy-field"))}
    assert fields["payer"] == "Northwind Mutual Health" and fields["line-of-business"] == "Commercial"
    assert "Northwind" in [f.value for f in facts_of(doc, "policy-field") if f.name == "alias"]
    assert fields["effective-date"] == "2025-03-01" and fields["number"] == "NMH-ONC-0042"
    cats = [(s.category, s.scope) for s in facts_of(doc, "coverage-statement")]
    assert cats == [("covered-with-criteria", "all"), ("investigational", "other-indications")]
    assert len(facts_of(doc, "criterion")) == 4
    (pa,) = facts_of(doc, "prior-authorization")
    assert pa.required and pa.items[1] == "The tumor board note documenting unresectability"
    assert [c.code for c in facts_of(doc, "governed-code")] == ["0600T", "0601T", "C25.0", "C25.1", "C25.2"]


def test_policy_calling_the_procedure_experimental():
    doc = read("policy-lakeshore-cryo.txt")
    assert [s.category for s in facts_of(doc, "coverage-statement")] == ["investigational"]
    fields = {f.name: f.value for f in facts_of(doc, "policy-field")}
    assert (fields["alias"], fields["number"], fields["effective-date"]) == ("LCHP", "LCHP-MP-118", "2026-01-01")


def test_guide_with_physician_payments_and_rvus():
    doc = read("guide-2024.txt")
    pays = {(p.code, p.setting): p for p in facts_of(doc, "payment")}
    nf = pays[("0673T", "physician-non-facility")]
    assert (nf.amount, nf.rvu, nf.year) == (1402.33, 12.4, 2024)
    assert pays[("0673T", "asc")].indicator == "A2" and pays[("0581T", "hospital-outpatient")].apc == "5091"
    assert [w.text for w in facts_of(doc, "device-warning")][-1] == "Pregnancy"


@pytest.fixture(scope="module")
def combined(tmp_path_factory, nucc_sample):
    folder = tmp_path_factory.mktemp("seeds")
    for p in list(SEEDS.iterdir()) + list(SYNTHETIC.iterdir()):
        (folder / p.name).write_bytes(p.read_bytes())
    files, _, findings = output_files(folder, nucc_sample, as_of=AS_OF)
    resources = {e["resource"]["id"]: e["resource"] for b in files.values() if b.get("resourceType") == "Bundle"
                 for e in b["entry"] if e["resource"]["resourceType"] != "PlanDefinition"}
    resources.update({e["resource"]["id"]: e["resource"] for e in files["03-coverage.json"]["entry"]
                      if e["resource"]["resourceType"] == "PlanDefinition" and e["resource"]["id"].startswith("coverage")})
    return resources, findings


def test_new_documents_give_new_rules_with_no_code_change(combined):
    resources, _ = combined
    north = resources["coverage-northwind-mutual-health-nmh-onc-0042"]
    dets = {a["id"]: {e["url"]: e.get("valueCode") for e in a["extension"][0]["extension"]} for a in north["action"]}
    assert dets["covered-with-criteria"]["covered"] == "conditional"
    assert dets["covered-with-criteria"]["pa-needed"] == "auth-needed"
    assert dets["other-indications"]["covered"] == "not-covered"
    lake = resources["coverage-lakeshore-community-health-plan-lchp-mp-118"]
    assert lake["action"][0]["extension"][0]["extension"][0] == {"url": "covered", "valueCode": "not-covered"}
    assert resources["lakeshore-community-health-plan"]["alias"] == ["LCHP"]


def test_new_documents_give_new_terminology(combined):
    resources, findings = combined
    assert {"0673T", "0581T"} <= {c["code"] for c in resources["cpt"]["concept"]}
    contra = resources["contraindications-icecure-system"]
    assert {f["filter"][0]["value"] for f in contra["compose"]["include"]} >= {"D68", "Z33"}
    assert {(f.code, f.value) for f in findings} >= {("icd-display-mismatch", "E04.2"), ("icd-not-billable", "E04"),
                                                     ("nucc-specialty-mismatch", "207Y00000X")}
