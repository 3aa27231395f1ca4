"""Hook scenarios against the committed bundles (and a rebuild with extra policy documents)."""

import json
from pathlib import Path

import pytest

from .conftest import call, coverage, coverage_info, error_text, fixture, request, service_request

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
    assert out["systemActions"][0]["resource"]["id"] == "sr-ire"


@pytest.mark.parametrize("name, expected", [
    ("order-sign-not-covered", {"covered": ["not-covered"]}),
    ("order-sign-medicare-ffs", {"covered": ["conditional"], "pa-needed": ["no-auth"], "doc-needed": ["clinical"],
                                 "doc-purpose": ["withclaim"], "info-needed": ["OTH"]}),
    ("order-sign-payer-without-policy", {"covered": ["indeterminate"]}),
])
def test_determination_by_payer(client, name, expected):
    (info,) = determinations(call(client, "order-sign-crd", fixture(name)))
    assert {k: info[k] for k in expected} == expected


def test_payer_without_policy_reason_names_payer_and_code(client):
    out = call(client, "order-sign-crd", fixture("order-sign-payer-without-policy"))
    assert determinations(out)[0]["reason"][0]["text"].startswith("Aetna has no coverage policy for 0581T")


def test_prior_auth_policy_after_rebuild_with_a_new_document(client, extra_client):
    """The same request, before and after a new policy document is built in: no code changed."""
    body = fixture("order-sign-prior-auth-policy")
    call(client, "order-sign-crd", body, status=400)  # before: a payer this service does not handle (hook-13)
    after_out = call(extra_client, "order-sign-crd", body)
    after = determinations(after_out)[0]
    assert (after["covered"], after["pa-needed"], after["doc-needed"], after["doc-purpose"]) == \
        (["conditional"], ["auth-needed"], ["clinical"], ["withpa"])
    assert all(c["source"]["label"] == "Northwind Mutual Health" for c in after_out["cards"])


def test_diagnosis_outside_policy_criteria_is_not_covered_after_rebuild(extra_client):
    body = request(orders=[service_request("sr-1", "0600T", dx="C64.1")], cov=coverage("Northwind"), version=V22)
    assert determinations(call(extra_client, "order-sign-crd", body))[0]["covered"] == ["not-covered"]


def test_bundling_conflict_suggests_deleting_the_other_order(client):
    out = call(client, "order-sign-crd", fixture("order-sign-bundling-conflict"))
    card = next(c for c in out["cards"] if c["source"]["topic"]["code"] == "claim")
    assert card["indicator"] == "warning"
    (suggestion,) = card["suggestions"]
    assert suggestion["actions"] == [{"type": "delete", "description": "Remove the conflicting order sr-ct",
                                      "resourceId": "ServiceRequest/sr-ct"}]


def test_contraindication_in_patient_conditions(client):
    body = fixture("order-sign-contraindication")
    assert ("contraindication", "warning") in topics(call(client, "order-sign-crd", body))
    body["prefetch"]["conditions"]["entry"][0]["resource"]["clinicalStatus"]["coding"][0]["code"] = "resolved"
    out = call(client, "order-sign-crd", body)
    assert ("contraindication", "warning") not in topics(out)


def test_billing_option_coding_is_found(client):
    out = call(client, "order-sign-crd", fixture("order-sign-billing-options"))
    assert determinations(out)[0]["covered"] == ["not-covered"]


def test_payment_benchmark_and_category_iii_cards(client):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "0600T")], cov=coverage("Medicare")))
    cost = next(c for c in out["cards"] if c["source"]["topic"]["code"] == "cost")
    assert "$9,096.46" in cost["detail"] and "2022" in cost["summary"]
    assert any("Category III" in c["summary"] for c in out["cards"])


def test_order_outside_the_rules_is_indeterminate_without_cards(client):
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", "99213")], cov=coverage("iCare"),
                                                 version=V22))
    assert out["cards"] == []
    (info,) = determinations(out)
    assert info["covered"] == ["indeterminate"] and "No coverage rules for 99213" in info["reason"][0]["text"]


@pytest.mark.parametrize("version, target", [(None, "Appointment"), ("2.2", "ServiceRequest")], ids=["2.0.1", "2.2"])
def test_appointment_book_updates_the_appointment_in_2_0_1_and_its_order_in_2_2(client, version, target):
    body = fixture("appointment-book-not-covered")
    if version:
        body["extension"] = {"davinci-crd.requestedVersion": version}
    (action,) = call(client, "appointment-book-crd", body)["systemActions"]
    assert action["resource"]["resourceType"] == target
    assert coverage_info(action)["covered"] == ["not-covered"]  # decided on the order's code either way


@pytest.mark.parametrize("name", ["order-dispatch-dispatched-orders", "order-dispatch-order-2.0.1"])
def test_order_dispatch_both_context_forms(client, name):
    out = call(client, "order-dispatch-crd", fixture(name))
    assert [a["resource"]["id"] for a in out["systemActions"]] == ["sr-d"]


def test_order_select_never_asks_for_clinical_documentation(client):
    info = determinations(call(client, "order-select-crd", fixture("order-select-medicare-ffs")))[0]
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
    assert r.status_code == 400 and message in error_text(r)


def test_unknown_service_is_404(client):
    r = client.post("/cds-services/nope", json=request())
    assert r.status_code == 404 and "nope" in error_text(r)


def test_feedback_is_recorded(client):
    r = client.post("/cds-services/order-sign-crd/feedback", json={"feedback": [{"card": "abc", "outcome": "accepted"}]})
    assert r.status_code == 200 and r.get_json() == {"received": 1}


def test_every_discovered_service_carries_the_crd_version(client):
    for service in client.get("/cds-services").get_json()["services"]:
        assert service["extension"]["davinci-crd.version"] == ["2.0", "2.2"]
        assert any(o["code"] == "coverage-info" for o in service["extension"]["davinci-crd.configuration-options"])


@pytest.mark.parametrize("mutate", [
    lambda b: b["prefetch"].update(coverage={"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Coverage", "id": "c", "payor": {"display": "x"}}}]}),
    lambda b: b["context"]["draftOrders"].update(entry=[{"resource": {"resourceType": "ServiceRequest",
                                                                       "code": {"coding": "0600T"}}}]),
    lambda b: b["context"].update(selections=[{"reference": "ServiceRequest/sr-1"}]),
    lambda b: b["context"].update(patientId={"id": "pat-1"}),
], ids=["payor-not-a-list", "coding-not-a-list", "selection-not-a-string", "patient-id-object"])
def test_schema_valid_but_malformed_fhir_is_4xx_not_5xx(client, mutate):
    body = request(hook="order-select", orders=[service_request("sr-1", "0600T")], cov=coverage(),
                   selections=["ServiceRequest/sr-1"])
    mutate(body)
    r = client.post("/cds-services/order-select-crd", json=body)
    assert r.status_code in (200, 400), r.get_data(as_text=True)
    if r.status_code == 400:
        assert error_text(r)


def test_absent_prefetch_without_a_fhir_server_is_said(client):
    body = request(orders=[service_request("sr-1", "0600T")], cov=coverage())
    body["prefetch"].pop("conditions")
    out = call(client, "order-sign-crd", body)
    gaps = next(c for c in out["cards"] if "could not be checked" in c["summary"])
    assert "no fhirServer" in gaps["detail"]


def test_order_select_compares_the_selection_with_every_draft_order(client):
    body = fixture("order-sign-bundling-conflict")
    body["hook"] = "order-select"
    body["context"]["selections"] = ["ServiceRequest/sr-ire"]
    out = call(client, "order-select-crd", body)
    assert [a["resource"]["id"] for a in out.get("systemActions", [])] == ["sr-ire"]
    card = next(c for c in out["cards"] if c["source"]["topic"]["code"] == "claim")
    assert card["suggestions"][0]["actions"][0]["resourceId"] == "ServiceRequest/sr-ct"


def test_order_dispatch_with_dispatched_orders_as_a_bundle(client):
    body = fixture("order-dispatch-dispatched-orders")
    ids = [r.split("/")[1] for r in body["context"]["dispatchedOrders"]]
    found = [e["resource"] for e in body["prefetch"]["orders"]["entry"] if e["resource"]["id"] in ids]
    body["context"]["dispatchedOrders"] = {"resourceType": "Bundle", "type": "collection",
                                           "entry": [{"resource": r} for r in found]}
    body["prefetch"].pop("orders")
    out = call(client, "order-dispatch-crd", body)
    assert [a["resource"]["id"] for a in out["systemActions"]] == ids
