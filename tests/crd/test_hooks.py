"""Hook scenarios against the committed bundles (and a rebuild with extra policy documents)."""

import json
from pathlib import Path

import pytest

from .conftest import bundle, call, coverage, coverage_info, request, service_request

V22 = "2.2"


def determinations(out):
    return [coverage_info(a) for a in out["systemActions"]]


def topics(out):
    return [(c["source"]["topic"]["code"], c["indicator"]) for c in out["cards"]]


def test_discovery_lists_the_four_hooks_with_prefetch_and_crd_version(client):
    services = client.get("/cds-services").get_json()
    hooks = {s["hook"]: s for s in services["services"]}
    assert set(hooks) == {"order-sign", "order-select", "order-dispatch", "appointment-book"}
    assert {"patient", "coverage", "conditions"} <= set(hooks["order-sign"]["prefetch"])
    assert "orders" in hooks["appointment-book"]["prefetch"] and "orders" in hooks["order-dispatch"]["prefetch"]
    assert services["extension"]["davinci-crd.version"] == ["2.0", "2.2"]


def test_recorded_fixture_not_covered_policy(client):
    body = json.loads((Path(__file__).parent / "fixtures" / "order-sign-not-covered.json").read_text())
    out = call(client, "order-sign-crd", body)
    (info,) = determinations(out)
    assert info["covered"] == ["not-covered"]
    assert "not be considered medically reasonable and necessary" in info["reason"][0]["text"]
    card = next(c for c in out["cards"] if c["source"]["topic"]["code"] == "coverage-info")
    assert card["source"]["label"] == "Independent Care Health Plan" and card["indicator"] == "warning"
    assert "for any indication" in card["detail"] and card["links"][0]["type"] == "absolute"
    assert out["systemActions"][0]["resource"]["id"] == "sr-ire"


@pytest.mark.parametrize("payor, sopt, version, expected", [
    ("Independent Care Health Plan", "111", V22, {"covered": ["not-covered"]}),
    ("Medicare", "121", V22, {"covered": ["conditional"], "pa-needed": ["no-auth"], "doc-needed": ["clinical"],
                              "doc-purpose": ["withclaim"], "info-needed": ["OTH"]}),
    ("Aetna", "5", V22, {"covered": ["indeterminate"]}),
    ("Acme Health Cooperative", None, V22, {"covered": ["indeterminate"]}),
    ("Acme Health Cooperative", None, None, {"covered": ["conditional"], "pa-needed": ["conditional"]}),
], ids=["not-covered-policy", "medicare-ffs", "payer-without-policy", "unknown-payer", "unknown-payer-crd-2.0.1"])
def test_determination_by_payer(client, payor, sopt, version, expected):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0601T")],
                                                 cov=coverage(payor, sopt), version=version))
    (info,) = determinations(out)
    assert {k: info[k] for k in expected} == expected


def test_unknown_payer_reason_says_no_rules(client):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0600T")],
                                                 cov=coverage("Acme Health Cooperative"), version=V22))
    assert "No coverage rules for this payer" in determinations(out)[0]["reason"][0]["text"]


def test_payer_without_policy_reason_names_payer_and_code(client):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0581T")], cov=coverage("Aetna"),
                                                 version=V22))
    assert determinations(out)[0]["reason"][0]["text"].startswith("Aetna has no coverage policy for 0581T")


def test_prior_auth_policy_after_rebuild_with_a_new_document(client, extra_client):
    """The same request, before and after a new policy document is built in: no code changed."""
    body = request(orders=[service_request("sr-1", "0600T", dx="C25.0")], cov=coverage("Northwind"), version=V22)
    before = determinations(call(client, "order-sign-crd", body))[0]
    assert before["covered"] == ["indeterminate"]
    after_out = call(extra_client, "order-sign-crd", body)
    after = determinations(after_out)[0]
    assert (after["covered"], after["pa-needed"], after["doc-needed"], after["doc-purpose"]) == \
        (["conditional"], ["auth-needed"], ["clinical"], ["withpa"])
    card = next(c for c in after_out["cards"] if c["source"]["label"] == "Northwind Mutual Health")
    assert "prior authorization" in card["summary"].lower() and "tumor board note" in card["detail"]


def test_diagnosis_outside_policy_criteria_is_not_covered_after_rebuild(extra_client):
    body = request(orders=[service_request("sr-1", "0600T", dx="C64.1")], cov=coverage("Northwind"), version=V22)
    assert determinations(call(extra_client, "order-sign-crd", body))[0]["covered"] == ["not-covered"]


def test_no_coverage_gives_a_card_and_no_determination(client):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0600T")], cov=None))
    assert out["systemActions"] == []
    assert any("No active coverage" in c["summary"] for c in out["cards"])
    assert any("could not be checked" in c["summary"] for c in out["cards"])  # no fhirServer to ask


def test_bundling_conflict_suggests_deleting_the_other_order(client):
    orders = [service_request("sr-ire", "0600T"), service_request("sr-ct", "77013"), service_request("sr-us", "76942")]
    out = call(client, "order-sign-crd", request(orders=orders, cov=coverage("Medicare")))
    card = next(c for c in out["cards"] if c["source"]["topic"]["code"] == "claim")
    assert card["indicator"] == "warning"
    (suggestion,) = card["suggestions"]
    assert suggestion["actions"] == [{"type": "delete", "description": "Remove the conflicting order sr-ct",
                                      "resourceId": "ServiceRequest/sr-ct"}]


def test_contraindication_in_patient_conditions(client):
    epilepsy = {"resourceType": "Condition", "id": "c1", "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G40.909"}]}}
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0601T")], cov=coverage("Medicare"),
                                                 conditions=[epilepsy]))
    assert ("contraindication", "warning") in topics(out)
    resolved = {**epilepsy, "clinicalStatus": {"coding": [{"code": "resolved"}]}}
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0601T")], cov=coverage("Medicare"),
                                                 conditions=[resolved]))
    assert ("contraindication", "warning") not in topics(out)


def test_billing_option_coding_is_found(client):
    sr = service_request("sr-1", "1234567", system="http://snomed.info/sct", billing="0600T")
    out = call(client, "order-sign-crd", request(orders=[sr], cov=coverage("iCare")))
    assert determinations(out)[0]["covered"] == ["not-covered"]


def test_payment_benchmark_and_category_iii_cards(client):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0600T")], cov=coverage("Medicare")))
    cost = next(c for c in out["cards"] if c["source"]["topic"]["code"] == "cost")
    assert "$9,096.46" in cost["detail"] and "2022" in cost["summary"]
    assert any("Category III" in c["summary"] for c in out["cards"])


def test_order_outside_the_rules_gets_nothing(client):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "99213")], cov=coverage("iCare")))
    assert out == {"cards": [], "systemActions": []}


def test_appointment_book_updates_the_order_behind_the_appointment(client):
    sr = service_request("sr-appt", "0601T")
    appt = {"resourceType": "Appointment", "id": "ap-1", "status": "proposed", "basedOn": [{"reference": "ServiceRequest/sr-appt"}],
            "participant": [{"actor": {"reference": "Patient/pat-1"}, "status": "needs-action"}]}
    body = request("appointment-book", cov=coverage("iCare"),
                   appointments={"resourceType": "Bundle", "type": "collection", "entry": [{"resource": appt}]})
    body["prefetch"]["orders"] = bundle(sr)
    out = call(client, "appointment-book-crd", body)
    (action,) = out["systemActions"]
    assert action["resource"]["resourceType"] == "ServiceRequest" and action["resource"]["id"] == "sr-appt"


@pytest.mark.parametrize("context", [{"dispatchedOrders": ["ServiceRequest/sr-d"]}, {"order": "ServiceRequest/sr-d"}],
                         ids=["crd-2.2-dispatchedOrders", "crd-2.0.1-order"])
def test_order_dispatch_both_context_forms(client, context):
    body = request("order-dispatch", cov=coverage("iCare"), performer="Practitioner/p2", **context)
    body["context"].pop("userId")
    body["prefetch"]["orders"] = bundle(service_request("sr-d", "0600T"))
    out = call(client, "order-dispatch-crd", body)
    assert [a["resource"]["id"] for a in out["systemActions"]] == ["sr-d"]


def test_order_select_never_asks_for_clinical_documentation(client):
    body = request("order-select", orders=[service_request("sr-1", "0600T")], cov=coverage("Medicare"),
                   selections=["ServiceRequest/sr-1"])
    info = determinations(call(client, "order-select-crd", body))[0]
    assert info["covered"] == ["conditional"] and "doc-needed" not in info


def test_configuration_turns_off_coverage_information(client):
    body = request(orders=[service_request("sr-1", "0600T")], cov=coverage("iCare"))
    body["extension"] = {"davinci-crd.configuration": {"coverage-info": False, "max-cards": 1}}
    out = call(client, "order-sign-crd", body)
    assert out["systemActions"] == [] and len(out["cards"]) == 1


@pytest.mark.parametrize("data, message", [
    ("{not json", "not valid JSON"), ("[]", "must be a JSON object"),
    (json.dumps({"hook": "order-sign", "context": {}}), "hookInstance"),
    (json.dumps({"hook": "order-sign", "hookInstance": "x", "context": {"userId": "u", "patientId": "p"}}),
     "draftOrders"),
    (json.dumps({"hook": "order-select", "hookInstance": "x", "context": {"userId": "u", "patientId": "p",
                 "draftOrders": {"resourceType": "Bundle"}, "selections": []}}), "is for hook"),
], ids=["malformed-json", "not-an-object", "missing-hookInstance", "missing-draftOrders", "wrong-hook"])
def test_bad_requests_are_400_with_json_error(client, data, message):
    r = client.post("/cds-services/order-sign-crd", data=data, content_type="application/json")
    assert r.status_code == 400 and message in r.get_json()["error"]


def test_unknown_service_is_404(client):
    r = client.post("/cds-services/nope", json=request())
    assert r.status_code == 404 and "nope" in r.get_json()["error"]


def test_feedback_is_recorded(client):
    r = client.post("/cds-services/order-sign-crd/feedback", json={"feedback": [{"card": "abc", "outcome": "accepted"}]})
    assert r.status_code == 200 and r.get_json() == {"received": 1}
    assert client.application.extensions["fhir_ire.cds_feedback"][-1]["card"] == "abc"
