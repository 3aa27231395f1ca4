"""A CDS Hooks request checked against the request schema (data/crd/request-schema.json): compiled once to Python
with fastjsonschema, once per service hook with the branches for other hooks resolved; jsonschema only words the error
of an invalid request."""

from functools import lru_cache

import fastjsonschema
import jsonschema

from fhir_ire.data import load as load_data
from fhir_ire.errors import InvalidRequest
from fhir_ire.web.limits import check_hook_size, parse_json


@lru_cache(maxsize=1)
def request_validator():
    return jsonschema.Draft7Validator(load_data("crd/request-schema.json"))


def parse_call(body_bytes: bytes, service: dict, limits) -> dict:
    """The request body as a CDS Hooks request for this service, or an InvalidRequest saying what is wrong."""
    body = parse_json(body_bytes, limits)
    check_hook_size(body, limits)  # before the schema and the engine work through it
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    problems = schema_problems(body, service["hook"])
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path) or "(root)"
        raise InvalidRequest(f"invalid CDS Hooks request at {where}: {problems[0].message}",
                             code="structure", expression=[where.replace("/", ".")])
    if body["hook"] != service["hook"]:
        raise InvalidRequest(f"service '{service['id']}' is for hook '{service['hook']}', not '{body['hook']}'")
    return body


@lru_cache(maxsize=None)  # the full schema and one per service hook
def request_check(hook: str | None = None):
    """The request schema compiled to Python once (fastjsonschema, formats unchecked as jsonschema leaves them):
    25x faster on a valid request; jsonschema then words the error of an invalid one. With a hook: the schema as
    it reads for a request of that hook (for_hook), for the calls that name their service's hook."""
    schema = load_data("crd/request-schema.json")
    return fastjsonschema.compile(for_hook(schema, hook) if hook else schema, use_formats=False)


def _hook_test(branch: dict) -> list | None:
    """The hooks an `allOf` branch `{"if": {"properties": {"hook": {"enum" or "const"}}}, "then": ...}` is for."""
    test = branch.get("if")
    if set(branch) - {"if", "then"} or not isinstance(test, dict) or set(test) != {"properties"} \
            or set(test["properties"]) != {"hook"}:
        return None
    hook = test["properties"]["hook"]
    if set(hook) == {"enum"}:
        return hook["enum"]
    return [hook["const"]] if set(hook) == {"const"} else None


def for_hook(schema: dict, hook: str) -> dict:
    """The schema for a request whose `hook` is this one: each branch that tests the hook replaced by its `then`
    (or dropped), the same verdict for such a request without a generated test (and the exception it raises) per
    branch that does not apply."""
    branches = []
    for branch in schema.get("allOf") or []:
        hooks = _hook_test(branch)
        if hooks is None:
            branches.append(branch)
        elif hook in hooks and "then" in branch:
            branches.append(branch["then"])
    out = {k: v for k, v in schema.items() if k != "allOf"}
    return {**out, "allOf": branches} if branches else out


def schema_problems(body: dict, hook: str | None = None) -> list:
    """The schema's objections to a request (none for a valid one); hook: the service's, when the request names it."""
    try:
        request_check(hook if hook is not None and body.get("hook") == hook else None)(body)
        return []
    except fastjsonschema.JsonSchemaException:
        return sorted(request_validator().iter_errors(body), key=lambda e: list(e.path))
