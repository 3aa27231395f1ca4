"""The issue's regular-expression bomb over HTTP: a `tx-resource` value set whose `regex` filter is `(a|a)*`,
asked about a code of 34 `a`s and `!` (a backtracking engine takes minutes on it; RE2 answers in linear time)."""

import json
import time

import pytest

FHIR_JSON = "application/fhir+json"
SYSTEM = "http://example.org/cs/letters"
CODE = "a" * 34 + "!"


def parameters(pattern: str, code: str) -> dict:
    cs = {"resourceType": "CodeSystem", "url": SYSTEM, "status": "active", "content": "complete",
          "concept": [{"code": code}, {"code": "aaaa"}]}
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/letters", "status": "active",
          "compose": {"include": [{"system": SYSTEM, "filter": [{"property": "code", "op": "regex",
                                                                  "value": pattern}]}]}}
    return {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": vs["url"]}, {"name": "system", "valueUri": SYSTEM},
        {"name": "code", "valueCode": code}, {"name": "tx-resource", "resource": cs},
        {"name": "tx-resource", "resource": vs}]}


def result(resp) -> bool:
    return next(p["valueBoolean"] for p in resp.get_json(force=True)["parameter"] if p["name"] == "result")


@pytest.mark.parametrize("pattern", ["(a|a)*", "(a+)+", "(a*)*b"])
def test_a_catastrophic_regex_filter_is_answered_at_once(client, pattern):
    started = time.monotonic()
    resp = client.post("/fhir/ValueSet/$validate-code", data=json.dumps(parameters(pattern, CODE)),
                       content_type=FHIR_JSON)
    assert resp.status_code == 200 and result(resp) is False  # the filter runs and does not match the `!`
    assert time.monotonic() - started < 2


def test_the_same_filter_still_matches_what_it_should(client):
    resp = client.post("/fhir/ValueSet/$validate-code", data=json.dumps(parameters("(a|a)*", "aaaa")),
                       content_type=FHIR_JSON)
    assert resp.status_code == 200 and result(resp) is True
