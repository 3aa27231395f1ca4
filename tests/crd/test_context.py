"""What a request says about payer, line of business and orders: plain functions, no Flask."""

import pytest

from fhir_ire.crd.context import Fetcher, lines_of_business, order_codings, orders
from fhir_ire.uris import CPT

from .conftest import bundle, coverage, request, service_request

SOPT = "https://nahdo.org/sopt"
ACTCODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


@pytest.mark.parametrize("system, code, expected", [
    (SOPT, "111", ["medicare", "medicare-advantage"]),
    (SOPT, "1211", ["medicare", "medicare-ffs"]),  # longest listed prefix wins
    (SOPT, "2", ["medicaid"]),
    (ACTCODE, "MCPOL", ["medicare"]),
    (ACTCODE, "PPO", ["commercial"]),
    ("http://example.org/other", "111", []),
], ids=["sopt-medicare-hmo", "sopt-prefix", "sopt-medicaid", "actcode-medicare", "actcode-ppo", "unknown-system"])
def test_line_of_business_from_coverage_type(system, code, expected):
    assert lines_of_business({"type": {"coding": [{"system": system, "code": code}]}}) == expected


def test_billing_options_on_the_code_and_hcpcs_systems_are_normalised():
    sr = service_request("sr-1", "12345", system="http://snomed.info/sct", billing="0600T")
    sr["code"]["coding"].append({"system": "https://bluebutton.cms.gov/resources/codesystem/hcpcs", "code": "C9999"})
    codings = order_codings(sr)
    assert {"system": CPT, "code": "0600T"} in codings
    assert any(c["code"] == "C9999" and c["system"] != "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
               for c in codings)


def test_appointment_based_on_an_order_is_decided_on_the_order():
    appt = {"resourceType": "Appointment", "id": "ap-1", "status": "proposed",
            "basedOn": [{"reference": "ServiceRequest/sr-1"}]}
    body = request(hook="appointment-book", appointments=bundle(appt))
    body["prefetch"]["orders"] = bundle(service_request("sr-1", "0600T"))
    assert [o["id"] for o in orders(body, Fetcher(body, []))] == ["sr-1"]


def test_order_dispatch_with_a_bundle_of_dispatched_orders():
    body = request(hook="order-dispatch", cov=coverage(), performer="Organization/perf-1",
                   dispatchedOrders=bundle(service_request("sr-7", "0600T")))
    assert [o["id"] for o in orders(body, Fetcher(body, []))] == ["sr-7"]


def test_absolute_reference_on_the_fhir_server_is_read_as_relative():
    from fhir_ire.crd.context import relative
    assert relative("https://ehr.example.org/fhir/ServiceRequest/1", "https://ehr.example.org/fhir") == "ServiceRequest/1"
    assert relative("ServiceRequest/1") == "ServiceRequest/1"
