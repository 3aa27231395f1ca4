"""Request limits: body size, JSON depth and numbers, lone surrogates, hook size and the time budget. Each is a
clear 4xx in the format of the route (OperationOutcome under /fhir, {"error": ...} on the CDS Hooks side)."""

import pytest

from fhir_ire import budget
from fhir_ire.errors import InvalidRequest, OverLimit
from fhir_ire.limits import Limits
from fhir_ire.web.limits import check_hook_size, parse_json
from tests.hardening.conftest import error_message, order_sign

LOOKUP = "/fhir/CodeSystem/$lookup"
HOOK = "/cds-services/order-sign-crd"
LIMITS = Limits(max_json_depth=5, max_number_length=10)


def parameters() -> dict:
    return {"resourceType": "Parameters", "parameter": [
        {"name": "system", "valueUri": "http://www.ama-assn.org/go/cpt"}, {"name": "code", "valueCode": "0600T"}]}


@pytest.mark.parametrize("text, message", [
    ('[[[[[[1]]]]]]', "nested 6 levels deep; this server takes at most 5"),
    ('[' * 100_000 + ']' * 100_000, "nested too deeply"),
    ('{"a": 12345678901}', "number has 11 characters; this server takes at most 10"),
    ('{"a": 1e999}', "out of range"),
    ('{"a": NaN}', "NaN is not valid JSON"),
    ('{"a": "\\ud800"}', "lone UTF-16 surrogate"),
    ('["x", {"\\udfff": 1}]', "lone UTF-16 surrogate"),
    ('{"a": 1', "not valid JSON"),
], ids=["depth", "depth-beyond-recursion", "long-number", "infinite-float", "nan", "lone-high-surrogate",
        "lone-low-surrogate-in-key", "truncated"])
def test_parse_json_refuses(text, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_json(text.encode(), LIMITS)


def test_parse_json_refuses_bytes_that_are_not_utf8():
    with pytest.raises(InvalidRequest, match="not UTF-8"):
        parse_json(b'{"a": "\xff"}', LIMITS)


@pytest.mark.parametrize("text, value", [
    ('[[[[["ok"]]]]]', [[[[["ok"]]]]]),
    ('{"s": "[[[[[[[[ {{{{ not nesting"}', {"s": "[[[[[[[[ {{{{ not nesting"}),
    ('{"s": "\\ud83d\\ude00 \\\\ud800"}', {"s": "\U0001F600 \\ud800"}),
    ('{"n": -123456789, "f": 1.5e10}', {"n": -123456789, "f": 1.5e10}),
], ids=["at-the-depth-limit", "brackets-inside-strings", "surrogate-pair-and-escaped-backslash", "numbers"])
def test_parse_json_accepts(text, value):
    assert parse_json(text.encode(), LIMITS) == value


def test_a_declared_body_over_the_limit_is_413_operation_outcome_under_fhir(make_client):
    r = make_client(max_body_bytes=1000).post(LOOKUP, data=b"{" * 1001, content_type="application/fhir+json")
    assert r.status_code == 413 and r.mimetype == "application/fhir+json"
    assert r.json["issue"][0]["code"] == "too-long" and "1,001 bytes" in r.json["issue"][0]["details"]["text"]


def test_a_declared_body_over_the_limit_is_413_json_on_the_cds_side(make_client):
    r = make_client(max_body_bytes=1000).post(HOOK + "/feedback", data=b" " * 5000, content_type="application/json")
    assert r.status_code == 413 and r.mimetype == "application/json" and "at most 1,000" in error_message(r)


@pytest.mark.parametrize("path", [LOOKUP, HOOK, HOOK + "/feedback"])
@pytest.mark.parametrize("body, message", [
    (b"[" * 10_000, "nested"), (b'{"a": ' + b"9" * 5000 + b"}", "JSON number has 5,000 characters"),
    (b'{"a": "\\udc00"}', "lone UTF-16 surrogate")], ids=["deep", "long-number", "lone-surrogate"])
def test_hostile_json_is_400_on_every_post_route(client, path, body, message):
    r = client.post(path, data=body, content_type="application/json")
    assert r.status_code == 400, r.text
    text = r.json["issue"][0]["details"]["text"] if path.startswith("/fhir") else error_message(r)
    assert message in text


def test_a_parameters_body_within_the_limits_is_answered(client):
    r = client.post(LOOKUP, json=parameters())
    assert r.status_code == 200 and r.json["resourceType"] == "Parameters"


def test_too_many_draft_orders_are_422_before_any_work(make_client):
    r = make_client(max_orders=3).post(HOOK, json=order_sign(4))
    assert r.status_code == 422 and "4 orders; this service takes at most 3 per call" in error_message(r)


def test_orders_at_the_limit_are_answered(make_client):
    r = make_client(max_orders=3).post(HOOK, json=order_sign(3))
    assert r.status_code == 200 and len(r.json["systemActions"]) == 3


def test_too_many_prefetched_resources_are_422():
    body = order_sign(1)
    body["prefetch"]["conditions"] = {"resourceType": "Bundle", "entry": [{"resource": {}}] * 5}
    with pytest.raises(OverLimit, match="prefetches 6 resources; this service takes at most 5"):
        check_hook_size(body, Limits(max_prefetch_resources=5))


def test_a_hook_call_over_its_time_budget_stops_and_answers_422(make_client):
    r = make_client(time_budget=1e-9).post(HOOK, json=order_sign(2))
    assert r.status_code == 422 and "stopped after its time budget" in error_message(r)


def test_the_budget_is_per_request(make_client):
    client = make_client(time_budget=30)
    assert client.post(HOOK, json=order_sign(2)).status_code == 200
    budget.check()  # outside a request there is no budget left over from the last one


def test_unknown_limit_names_are_refused():
    with pytest.raises(ValueError, match="unknown limits: max_bodies"):
        Limits.from_config({"LIMITS": {"max_bodies": 1}})
