"""DTR Questionnaires built from each policy's criteria and documentation requirements (build/questionnaire.py):
in 03-coverage.json, served at /fhir/Questionnaire, referenced from coverage-information when doc-needed is set
(CRD resp-38), each item's quote a Provenance; valid R4 (schema here, Medplum's validator in tests/interop)."""

import json

import jsonschema
import pytest

from fhir_ire.store import read_bundle

from .conftest import ROOT, call, coverage, coverage_info, fixture, request, service_request

TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"


def resources(client, rtype):
    answer = client.get(f"/fhir/{rtype}?_count=1000").get_json()
    return [e["resource"] for e in answer.get("entry", [])]


def northwind(client, hook="order-sign", version="2.2"):
    body = request(hook=hook, orders=[service_request("sr-1", "0600T", dx="C25.0")], cov=coverage("Northwind"),
                   version=version, **({"selections": ["ServiceRequest/sr-1"]} if hook == "order-select" else {}))
    return coverage_info(call(client, f"{hook}-crd", body)["systemActions"][0])


def test_resp_38_prior_authorization_points_to_the_policy_questionnaire(extra_client):
    info = northwind(extra_client)
    assert info["doc-needed"] == ["clinical"] and info["pa-needed"] == ["auth-needed"]
    (url,) = info["questionnaire"]
    (form,) = [q for q in resources(extra_client, "Questionnaire") if q["url"] == url]
    groups = {g["linkId"]: g for g in form["item"]}
    criteria = [i["text"] for i in groups["criteria"]["item"]]
    documents = [i["text"] for i in groups["documents"]["item"]]
    assert len(criteria) == 4 and criteria[2] == "ECOG performance status 0 or 1"
    assert all(i["type"] == "boolean" for i in groups["criteria"]["item"])
    assert any("tumor board note" in d for d in documents) and len(documents) == 3
    assert all(i["type"] == "attachment" and i["required"] for i in groups["documents"]["item"])
    assert form["publisher"] == "Northwind Mutual Health"


def test_resp_38_questionnaire_is_sent_in_crd_2_0_1_too(extra_client):
    assert northwind(extra_client, version=None)["questionnaire"]


def test_crd_ci_q1_no_questionnaire_where_no_documentation_is_asked(extra_client):
    info = northwind(extra_client, hook="order-select")  # a secondary hook never asks for documentation
    assert "doc-needed" not in info and "questionnaire" not in info


def test_not_covered_has_no_questionnaire(client):
    (action,) = call(client, "order-sign-crd", fixture("order-sign-not-covered"))["systemActions"]
    assert "questionnaire" not in coverage_info(action)


def test_medicare_documentation_with_the_claim_is_a_questionnaire_of_optional_items(client):
    body = request(orders=[service_request("sr-1", "0600T")], cov=coverage("Medicare"), version="2.2")
    (url,) = coverage_info(call(client, "order-sign-crd", body)["systemActions"][0])["questionnaire"]
    form = client.get("/fhir/Questionnaire?url=" + url).get_json()["entry"][0]["resource"]
    (documents,) = form["item"]
    assert "may be requested with the claim" in documents["text"]
    assert documents["item"] and not any(i["required"] for i in documents["item"])


def test_every_questionnaire_item_has_its_quote_as_provenance(extra_client):
    provenance = resources(extra_client, "Provenance")
    for form in resources(extra_client, "Questionnaire"):
        for item in [i for g in form["item"] for i in g["item"]]:
            (prov,) = [p for p in provenance if p["target"][0]["reference"] == f"Questionnaire/{form['id']}"
                       and p["target"][0]["extension"][0] == {"url": TARGET_ELEMENT, "valueUri": item["linkId"]}]
            (entity,) = prov["entity"]
            assert entity["role"] == "quotation" and entity["what"]["reference"].startswith("DocumentReference/")
            quoted = entity["what"]["display"]
            assert item["text"].lower() in quoted.lower()  # the item's words are in its quote


def test_questionnaires_and_their_provenance_are_valid_r4(fhir_schema_path):
    schema = json.loads(fhir_schema_path.read_text())
    validator = jsonschema.Draft7Validator(schema)
    found = [e["resource"] for name in ("03-coverage.json", "04-provenance.json")
             for e in read_bundle(ROOT / "bundles" / name)["entry"]
             if e["resource"]["resourceType"] == "Questionnaire" or
             e["resource"]["id"].startswith("prov-dtr-")]
    assert {r["resourceType"] for r in found} == {"Questionnaire", "Provenance"}
    for resource in found:
        assert [e.message for e in validator.iter_errors(resource)] == [], resource["id"]


@pytest.mark.parametrize("rtype", ["Questionnaire"])
def test_questionnaires_are_served_at_the_fhir_base(client, rtype):
    forms = resources(client, rtype)
    assert forms and all(client.get(f"/fhir/{rtype}/{f['id']}").get_json() == f for f in forms)
