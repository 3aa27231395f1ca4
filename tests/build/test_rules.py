"""The coverage-rule PlanDefinitions are data a generic engine can evaluate: FHIRPath conditions over the variables
docs/rules.md lists, determinations in CRD terms, citations with quotes."""

import fhirpathpy
import pytest

from fhir_ire.build.context import slug
from fhir_ire.data import load as load_data
from fhir_ire.uris import CPT, ICD10CM


def rule(resources, rid):
    return next(r for r in resources if r["resourceType"] == "PlanDefinition" and r["id"] == rid)


def applies(action, **env) -> bool:
    env = {"payerId": [], "orderCodes": [], "reasonCodes": [], "linesOfBusiness": [], "conditions": [],
           "draftCodes": [], "draftOrders": [], **env}
    return all(fhirpathpy.evaluate({}, c["expression"]["expression"], env) == [True] for c in action["condition"])


def determination(action) -> dict:
    ext = next(e for e in action["extension"] if e["url"].endswith("/coverage-determination"))
    out = {}
    for e in ext["extension"]:
        out.setdefault(e["url"], []).append(e.get("valueCode") or e.get("valueString"))
    return out


def cpt(*codes):
    return [{"system": CPT, "code": c} for c in codes]


def directory_members(orgs: dict) -> dict[str, str]:
    """{id: parent id} of the payers the directory lists as part of a published payer (docs/crd.md: published with
    it, though no document names them)."""
    ids = {o["name"]: i for i, o in orgs.items()}
    return {slug(e["name"]): ids[e["parent"]] for e in load_data("payers.json")["payers"] if e.get("parent") in ids}


def test_policy_rule_applies_to_its_payer_and_codes_only(seed_resources):
    (act,) = rule(seed_resources, "coverage-independent-care-health-plan-wi-pa-1266")["action"]
    assert applies(act, payerId="independent-care-health-plan", orderCodes=cpt("0601T"))
    assert applies(act, payerId="independent-care-health-plan", orderCodes=cpt("0600T"),
                   linesOfBusiness=["medicare", "medicare-advantage"])
    assert not applies(act, payerId="independent-care-health-plan", orderCodes=cpt("0600T"),
                       linesOfBusiness=["commercial"])
    assert not applies(act, payerId="aetna", orderCodes=cpt("0600T"))
    assert not applies(act, payerId="independent-care-health-plan", orderCodes=cpt("0581T"))
    assert determination(act)["covered"] == ["not-covered"] and "pa-needed" not in determination(act)
    assert "for any indication" in act["documentation"][0]["citation"]
    assert len(act["title"]) < 140


def test_rule_is_indexed_by_code_and_payer(seed_resources):
    pd = rule(seed_resources, "coverage-independent-care-health-plan-wi-pa-1266")
    focus = next(u for u in pd["useContext"] if u["code"]["code"] == "focus")
    assert {c["code"] for c in focus["valueCodeableConcept"]["coding"]} == {"0600T", "0601T"}
    payer = next(u for u in pd["useContext"] if u["code"]["code"] == "payer")
    assert payer["valueReference"]["reference"] == "Organization/independent-care-health-plan"
    assert pd["effectivePeriod"] == {"start": "2024-10-08"}


def test_fee_for_service_program_rule(seed_resources):
    (act,) = rule(seed_resources, "coverage-medicare-contractor-priced")["action"]
    assert applies(act, payerId="medicare", orderCodes=cpt("0600T"))
    assert not applies(act, payerId="medicare", orderCodes=cpt("0581T"))  # no statement about its NCD/LCD
    det = determination(act)
    assert (det["covered"], det["pa-needed"], det["doc-needed"], det["doc-purpose"]) == \
        (["conditional"], ["no-auth"], ["clinical"], ["withclaim"])
    assert det["info-needed"] == ["OTH"] and det["reason"]


def test_bundling_rule_selects_the_conflicting_draft_order(seed_resources):
    act = next(a for a in rule(seed_resources, "not-reported-with")["action"] if "0600T" in a["title"])
    assert applies(act, orderCodes=cpt("0600T"), draftCodes=cpt("77013"))
    assert not applies(act, orderCodes=cpt("0600T"), draftCodes=cpt("76942"))
    expr = act["action"][0]["dynamicValue"][0]["expression"]["expression"]
    orders = [{"resourceType": "ServiceRequest", "id": "a", "code": {"coding": cpt("77013")}},
              {"resourceType": "ServiceRequest", "id": "b", "code": {"coding": cpt("99213")}}]
    assert [o["id"] for o in fhirpathpy.evaluate({}, expr, {"draftOrders": orders})] == ["a"]


@pytest.mark.parametrize("code, status, expected", [("G40.909", "active", True), ("I48.91", None, True),
                                                     ("Z95.0", "active", True), ("G40.909", "resolved", False),
                                                     ("E11.9", "active", False)])
def test_contraindication_rule_reads_active_conditions(seed_resources, code, status, expected):
    (act,) = rule(seed_resources, "contraindications-nanoknife-system")["action"]
    condition = {"resourceType": "Condition", "code": {"coding": [{"system": ICD10CM, "code": code}]}}
    if status:
        condition["clinicalStatus"] = {"coding": [{"code": status}]}
    assert applies(act, orderCodes=cpt("0601T"), conditions=[condition]) is expected


def test_diagnosis_rule_accepts_children_of_listed_categories(seed_resources):
    act = next(a for a in rule(seed_resources, "related-diagnoses-check")["action"] if a["id"] == "diagnosis-0600t")
    dx = lambda c: [{"system": ICD10CM, "code": c}]  # noqa: E731
    assert applies(act, orderCodes=cpt("0600T"), reasonCodes=dx("C25.0"))
    assert not applies(act, orderCodes=cpt("0600T"), reasonCodes=dx("C34.91"))  # under listed C34.9
    assert not applies(act, orderCodes=cpt("0600T"))  # no diagnosis on the order: nothing to say


def test_payers_and_aliases(seed_resources):
    orgs = {r["id"]: r for r in seed_resources if r["resourceType"] == "Organization"}
    members = directory_members(orgs)
    assert set(orgs) - set(members) == {"aetna", "blue-cross-blue-shield-association", "cigna-healthcare",
                                        "independent-care-health-plan", "medicare", "unitedhealthcare"}
    assert members and set(members.values()) == {"medicare"}  # its administrative contractors
    assert all(orgs[m]["partOf"]["reference"] == f"Organization/{p}" for m, p in members.items())
    assert orgs["independent-care-health-plan"]["alias"] == ["iCare"]
    assert all(o["type"][0]["coding"][0]["code"] == "pay" for o in orgs.values())


def test_payers_the_directory_knows_carry_its_names_and_identifiers(seed_resources):
    """The code reports say 'Cigna Health'; the directory knows Cigna Healthcare, its short names and payer ID."""
    orgs = {r["id"]: r for r in seed_resources if r["resourceType"] == "Organization"}
    cigna = orgs["cigna-healthcare"]
    assert cigna["name"] == "Cigna Healthcare" and {"Cigna", "Cigna Health", "CIGNA"} <= set(cigna["alias"])
    (ident,) = cigna["identifier"]
    assert ident["value"] == "62308" and ident["type"]["coding"][0]["code"] == "NIIP"
    assert "Blue Cross" not in orgs["blue-cross-blue-shield-association"].get("alias", [])  # names no one plan
    assert "identifier" not in orgs["independent-care-health-plan"]


def test_payment_benchmarks_carry_year_and_amount(seed_resources):
    cids = {r["id"]: r for r in seed_resources if r["resourceType"] == "ChargeItemDefinition"}
    opps = cids["payment-0600t-hospital-outpatient-2022"]
    comp = opps["propertyGroup"][0]["priceComponent"][0]
    assert comp["amount"] == {"value": 9096.46, "currency": "USD"} and "APC 5362" in comp["code"]["text"]
    assert opps["effectivePeriod"] == {"start": "2022-01-01", "end": "2022-12-31"}
    assert "amount" not in cids["payment-0601t-physician-facility-2022"]["propertyGroup"][0]["priceComponent"][0]


def test_every_derived_resource_has_provenance_with_quotes(seed_resources):
    """Everything but our own small code systems (publisher fhir-ire) and the payers the directory alone lists as
    part of a published payer comes from the documents."""
    provs = {p["target"][0]["reference"]: p for p in seed_resources if p["resourceType"] == "Provenance"}
    members = directory_members({r["id"]: r for r in seed_resources if r["resourceType"] == "Organization"})
    for r in seed_resources:
        if r["resourceType"] == "Organization" and r["id"] in members and f"Organization/{r['id']}" not in provs:
            continue
        if r["resourceType"] not in ("Provenance", "DocumentReference") and r.get("publisher") != "fhir-ire":
            prov = provs[f"{r['resourceType']}/{r['id']}"]
            assert all(e["what"]["reference"].startswith("DocumentReference/doc-") and '"' in e["what"]["display"]
                       for e in prov["entity"])


@pytest.mark.parametrize("lines, expected", [([], True), (["medicare", "medicare-ffs"], True), (["medicare"], True),
                                             (["medicare", "medicare-advantage"], False), (["commercial"], False)])
def test_fee_for_service_rule_is_not_for_advantage_plans(seed_resources, lines, expected):
    (act,) = rule(seed_resources, "coverage-medicare-contractor-priced")["action"]
    assert applies(act, payerId="medicare", orderCodes=cpt("0600T"), linesOfBusiness=lines) is expected
