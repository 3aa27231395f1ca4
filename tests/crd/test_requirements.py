"""One test per Da Vinci CRD 2.2 server requirement of issue 9, named after the IG's key (docs/crd.md lists them)."""

import copy

import pytest

from fhir_ire import create_app
from fhir_ire.store import load_bundles
from fhir_ire.uris import CRD_COVERAGE_INFORMATION

from .conftest import ROOT, bundle, call, coverage, coverage_info, error_text, fixture, request, service_request

V22 = "2.2"
NAIC = "urn:oid:2.16.840.1.113883.6.300"


@pytest.fixture(scope="module")
def identified_client():
    """The committed bundles with identifiers on two payer Organizations, as the payer directory publishes them."""
    index = load_bundles(ROOT / "bundles")
    for rid, value in (("independent-care-health-plan", "90001"), ("aetna", "90002")):
        index.get("Organization", rid)["identifier"] = [{"system": NAIC, "value": value}]
    return create_app({"BUNDLES": str(ROOT / "bundles"), "INDEX": index}).test_client()


def ire(cov, version=V22, **kw):
    return request(orders=[service_request("sr-1", "0600T")], cov=cov, version=version, **kw)


def test_hook_10_errors_are_operation_outcomes(client):
    bad = client.post("/cds-services/order-sign-crd", data="{", content_type="application/json")
    assert bad.status_code == 400 and "not valid JSON" in error_text(bad)
    unknown = client.post("/cds-services/nope", json=request())
    assert unknown.status_code == 404 and "nope" in error_text(unknown)


def test_hook_13_no_coverage_is_400_with_an_operation_outcome(client):
    r = client.post("/cds-services/order-sign-crd", json=fixture("order-sign-no-coverage"))
    assert r.status_code == 400 and "No Coverage" in error_text(r)
    assert r.get_json()["issue"][0]["expression"] == ["prefetch.coverage"]


def test_hook_13_null_coverage_prefetch_is_no_coverage(client):
    body = ire(coverage("iCare"))
    body["prefetch"]["coverage"] = None
    assert client.post("/cds-services/order-sign-crd", json=body).status_code == 400


def test_hook_13_payer_this_service_does_not_handle_is_400(client):
    r = client.post("/cds-services/order-sign-crd", json=fixture("order-sign-unknown-payer"))
    assert r.status_code == 400 and "not a payer this CRD service handles" in error_text(r)
    assert r.get_json()["issue"][0]["code"] == "not-supported"


def test_hook_13_payor_identifier_is_matched_first(identified_client):
    cov = coverage(payor=None)
    cov["payor"] = [{"identifier": {"system": NAIC, "value": "90001"}}]
    (action,) = call(identified_client, "order-sign-crd", ire(cov))["systemActions"]
    assert coverage_info(action)["covered"] == ["not-covered"]  # iCare's policy, found by identifier alone
    cov["payor"] = [{"identifier": {"system": NAIC, "value": "90002"}, "display": "iCare"}]
    (action,) = call(identified_client, "order-sign-crd", ire(cov))["systemActions"]
    assert coverage_info(action)["covered"] == ["indeterminate"]  # Aetna by identifier, whatever the display says


def test_hook_13_referenced_organization_is_matched_by_its_identifier(identified_client):
    body = ire(coverage(payor=None, org_ref="Organization/ehr-org-7"))
    body["prefetch"]["payer"] = {"resourceType": "Organization", "id": "ehr-org-7", "name": "Local name",
                                 "identifier": [{"system": NAIC, "value": "90001"}]}
    (action,) = call(identified_client, "order-sign-crd", body)["systemActions"]
    assert coverage_info(action)["covered"] == ["not-covered"]


def test_resp_45_cancelled_coverage_is_not_covered_with_no_active_coverage(client):
    cov = coverage("iCare")
    cov["status"] = "cancelled"
    (action,) = call(client, "order-sign-crd", ire(cov))["systemActions"]
    info = coverage_info(action)
    assert info["covered"] == ["not-covered"] and info["reason"][0]["coding"][0]["code"] == "no-active-coverage"
    assert info["coverage"] == [{"reference": "Coverage/cov-1"}]


def test_resp_45_two_active_coverages_are_not_covered_with_coverage_not_found(client):
    second = {**coverage("Medicare"), "id": "cov-2"}
    body = ire(coverage("iCare"))
    body["prefetch"]["coverage"] = bundle(coverage("iCare"), second)
    (action,) = call(client, "order-sign-crd", body)["systemActions"]
    exts = [e for e in action["resource"]["extension"] if e["url"] == CRD_COVERAGE_INFORMATION]
    ids = {next(x["valueString"] for x in e["extension"] if x["url"] == "coverage-assertion-id") for e in exts}
    assert len(exts) == 2 and len(ids) == 2  # one assertion per coverage, distinct ids (resp-32)
    assert all(next(x for x in e["extension"] if x["url"] == "reason")["valueCodeableConcept"]["coding"][0]["code"]
               == "coverage-not-found" for e in exts)


def test_resp_4_every_card_is_labelled_with_the_insurer(client):
    for name, payer in (("order-sign-not-covered", "Independent Care Health Plan"),
                        ("order-sign-medicare-ffs", "Medicare")):
        out = call(client, "order-sign-crd", fixture(name))
        assert out["cards"] and {c["source"]["label"] for c in out["cards"]} == {payer}


@pytest.mark.parametrize("name", ["order-sign-not-covered", "order-sign-medicare-ffs", "order-sign-bundling-conflict"])
def test_resp_12_resp_25_coverage_information_is_never_a_card(client, name):
    out = call(client, "order-sign-crd", fixture(name))
    assert out["systemActions"]
    assert not any(c["source"]["topic"]["code"] == "coverage-info" for c in out["cards"])


def test_resp_24_instructions_cards_have_a_detail(client, extra_client):
    bodies = [fixture(n) for n in ("order-sign-not-covered", "order-sign-medicare-ffs", "order-sign-bundling-conflict",
                                   "order-sign-contraindication")]
    bodies[0]["prefetch"].pop("conditions")  # adds the card of what could not be checked
    cards = [c for b in bodies for c in call(client, "order-sign-crd", b)["cards"]]
    instructions = [c for c in cards if not c.get("links") and not c.get("suggestions")]
    assert instructions and all(c.get("detail") for c in instructions)


def test_resp_35_an_order_sent_back_with_our_answer_gets_no_update_again(client):
    body = fixture("order-sign-not-covered")
    (action,) = call(client, "order-sign-crd", body)["systemActions"]
    again = copy.deepcopy(body)
    again["context"]["draftOrders"]["entry"][0]["resource"] = action["resource"]
    assert call(client, "order-sign-crd", again)["systemActions"] == []


def test_resp_36_a_changed_order_is_decided_again(client):
    body = fixture("order-sign-not-covered")
    (action,) = call(client, "order-sign-crd", body)["systemActions"]
    changed = copy.deepcopy(body)
    order = copy.deepcopy(action["resource"])
    next(e for e in order["extension"] if e["url"] == CRD_COVERAGE_INFORMATION)["extension"][1]["valueCode"] = "covered"
    changed["context"]["draftOrders"]["entry"][0]["resource"] = order
    (update,) = call(client, "order-sign-crd", changed)["systemActions"]
    exts = [e for e in update["resource"]["extension"] if e["url"] == CRD_COVERAGE_INFORMATION]
    assert len(exts) == 1 and coverage_info(update)["covered"] == ["not-covered"]  # replaced, not added


def test_conf_5_billing_code_and_expiry_date_are_filled_when_known(client):
    cov = coverage("Medicare")
    cov["period"] = {"start": "2025-01-01", "end": "2099-12-31"}
    (action,) = call(client, "order-sign-crd", ire(cov))["systemActions"]
    info = coverage_info(action)
    assert info["billingCode"] == [{"system": "http://www.ama-assn.org/go/cpt", "code": "0600T"}]
    assert info["expiry-date"] == ["2099-12-31"]


def test_conf_5_no_expiry_date_in_crd_2_0_1(client):
    cov = coverage("Medicare")
    cov["period"] = {"end": "2099-12-31"}
    info = coverage_info(call(client, "order-sign-crd", ire(cov, version=None))["systemActions"][0])
    assert "expiry-date" not in info and info["billingCode"]


def test_one_coverage_assertion_id_per_order(client):
    out = call(client, "order-sign-crd", fixture("order-sign-bundling-conflict"))
    ids = [coverage_info(a)["coverage-assertion-id"][0] for a in out["systemActions"]]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_crd_2_0_1_policy_link_is_a_2_0_1_valid_detail(client):
    body = fixture("order-sign-not-covered")
    (action,) = call(client, "order-sign-crd", body)["systemActions"]
    (detail,) = coverage_info(action)["detail"]
    parts = {e["url"]: e for e in detail}
    assert set(parts) == {"code", "value"} and parts["value"]["valueString"].startswith("http")
    assert parts["code"]["valueCodeableConcept"]["coding"][0]["system"] != \
        "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"


def test_crd_2_2_policy_link_is_a_url_detail_with_a_category(client):
    (action,) = call(client, "order-sign-crd", ire(coverage("iCare")))["systemActions"]
    parts = {e["url"]: e for e in coverage_info(action)["detail"][0]}
    assert parts["category"]["valueCode"] == "cat-other" and parts["value"]["valueUrl"].startswith("http")


@pytest.mark.parametrize("version", ["9.9", "2.1", 2.2])
def test_unsupported_requested_version_is_422(client, version):
    r = client.post("/cds-services/order-sign-crd", json=ire(coverage("iCare"), version=version))
    assert r.status_code == 422 and "not supported" in error_text(r)


@pytest.mark.parametrize("version", ["2.2", "2.2.1", "2.0", "2.0.1"])
def test_supported_requested_versions_are_answered(client, version):
    call(client, "order-sign-crd", ire(coverage("iCare"), version=version))


def test_dev_5_every_card_type_returned_has_a_boolean_option(client):
    service = next(s for s in client.get("/cds-services").get_json()["services"] if s["id"] == "order-sign-crd")
    options = {o["code"]: o for o in service["extension"]["davinci-crd.configuration-options"]}
    assert {"coverage-info", "claim", "guideline", "contraindication", "cost"} <= set(options)
    assert all({"code", "type", "name", "description", "default"} <= set(o) for o in options.values())
    assert len({o["name"] for o in options.values()}) == len(options)  # dev-8: unique


@pytest.mark.parametrize("topic, name", [("claim", "order-sign-bundling-conflict"), ("cost", "order-sign-medicare-ffs"),
                                         ("guideline", "order-sign-medicare-ffs"),
                                         ("contraindication", "order-sign-contraindication")])
def test_dev_14_a_card_type_turned_off_is_not_returned(client, topic, name):
    body = fixture(name)
    assert any(c["source"]["topic"]["code"] == topic for c in call(client, "order-sign-crd", body)["cards"])
    body.setdefault("extension", {})["davinci-crd.configuration"] = {topic: False}
    out = call(client, "order-sign-crd", body)
    assert out["cards"] and not any(c["source"]["topic"]["code"] == topic for c in out["cards"])


def test_dev_14_coverage_info_off_removes_the_action_and_no_coverage_card_remains(client):
    body = fixture("order-sign-not-covered")
    body["extension"] = {"davinci-crd.configuration": {"coverage-info": False}}
    out = call(client, "order-sign-crd", body)
    assert out["systemActions"] == [] and not any(c["source"]["topic"]["code"] == "coverage-info" for c in out["cards"])


def test_dev_15_dev_17_unknown_or_mistyped_configuration_is_ignored(client):
    body = fixture("order-sign-bundling-conflict")
    body["extension"] = {"davinci-crd.configuration": {"claim": "no", "max-cards": -3, "no-such-option": False}}
    out = call(client, "order-sign-crd", body)
    assert any(c["source"]["topic"]["code"] == "claim" for c in out["cards"])
