"""The compiled request schema (fastjsonschema) accepts and refuses exactly what jsonschema does: every recorded
request, and each of them with every top-level and context member removed or given another type."""

import json

import fastjsonschema
import pytest

from fhir_ire.data import load as load_data
from fhir_ire.web.cds import for_hook, request_check, request_validator, schema_problems

from .conftest import HERE

REQUESTS = {p.stem: json.loads(p.read_text()) for p in sorted((HERE / "fixtures").glob("*.json"))
            if "hook" in json.loads(p.read_text())}
OTHER_VALUES = [None, 1, "x", [], {}, True]


def mutations(body: dict):
    for key in list(body):
        yield f"no {key}", {k: v for k, v in body.items() if k != key}
        for value in OTHER_VALUES:
            yield f"{key}={value!r}", {**body, key: value}
    for key in list(body.get("context") or {}):
        for value in OTHER_VALUES:
            yield f"context.{key}={value!r}", {**body, "context": {**body["context"], key: value}}


def compiled_accepts(body, hook=None) -> bool:
    try:
        request_check(hook)(body)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_compiled_schema_agrees_with_jsonschema(name):
    cases = [("as recorded", REQUESTS[name])] + list(mutations(REQUESTS[name]))
    disagree = [what for what, body in cases
                if compiled_accepts(body) != (not list(request_validator().iter_errors(body)))]
    assert disagree == [] and len(cases) > 20


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_schema_for_a_requests_own_hook_agrees_with_jsonschema(name):
    """The schema read for one hook (web/cds.py for_hook) gives the full schema's verdict on a request of that hook,
    the context members of every other hook included."""
    hook = REQUESTS[name]["hook"]
    others = {k: v for body in REQUESTS.values() for k, v in (body.get("context") or {}).items()}
    cases = [("as recorded", REQUESTS[name])] + list(mutations(REQUESTS[name])) + list(
        mutations({**REQUESTS[name], "context": {**others, **REQUESTS[name]["context"]}}))
    cases = [(what, body) for what, body in cases if body.get("hook") == hook]
    disagree = [what for what, body in cases
                if compiled_accepts(body, hook) != (not list(request_validator().iter_errors(body)))]
    assert disagree == [] and len(cases) > 20
    assert len(for_hook(load_data("crd/request-schema.json"), hook)["allOf"]) < \
        len(load_data("crd/request-schema.json")["allOf"])


def test_an_invalid_request_is_worded_by_jsonschema():
    body = {k: v for k, v in next(iter(REQUESTS.values())).items() if k != "hookInstance"}
    (first, *_) = schema_problems(body)
    assert "hookInstance" in first.message
