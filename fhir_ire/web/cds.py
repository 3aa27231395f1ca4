"""CDS Hooks endpoints under /cds-services: discovery, service calls, feedback. Every error is an OperationOutcome
(CRD hook-10), never a 5xx for bad input; JWT checks when issuers are trusted."""

import logging
from functools import lru_cache

import fastjsonschema
import jsonschema
import orjson
from flask import Blueprint, jsonify, request

from fhir_ire.crd.audit import DEFAULT_RETENTION_DAYS, AuditError, AuditStore, JsonText
from fhir_ire.crd.hooks import CrdEngine, evaluate
from fhir_ire.crd.security import AuthError, JwtChecker
from fhir_ire.data import load as load_data
from fhir_ire.errors import FhirError, InvalidRequest, NotFound, TooLarge
from fhir_ire.terminology.outcome import error_outcome
from fhir_ire.web.bases import base_url
from fhir_ire.web.encoding import OPTIONS as ENCODING, json_response
from fhir_ire.web.guard import loggable
from fhir_ire.web.limits import check_hook_size, parse_json, read_body

FEEDBACK_MAX_BYTES = 64 * 1024  # one feedback post (CDS Hooks feedback is a few cards' outcomes)
FEEDBACK_MAX_ITEMS = 100
log = logging.getLogger("fhir_ire.cds")


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


def parse_feedback(raw: bytes, limits, max_items: int) -> list[dict]:
    """The items of a CDS Hooks feedback post (each with a card uuid and an outcome), at most max_items."""
    body = parse_json(raw, limits, "The feedback body")
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidRequest("feedback must be an object with a 'feedback' array")
    if len(items) > max_items:
        raise TooLarge(f"A feedback post has {len(items):,} items; this service takes at most {max_items}")
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("card"), str) or \
                item.get("outcome") not in ("accepted", "overridden"):
            raise InvalidRequest(f"feedback item {n} needs a 'card' (string) and an 'outcome' (accepted or "
                                 "overridden)", expression=[f"feedback[{n}]"])
    return items


def init(app, index, config, prefix="/cds-services"):
    engine = CrdEngine(index, config)
    app.extensions["fhir_ire.crd"] = engine
    for hook in [None, *(s["hook"] for s in engine.services.values())]:
        request_check(hook)  # compiled at start-up (10-25 ms each), before workers fork, not on a first call
    checker = JwtChecker(config["TRUST"], config.get("JTI_STORE")) if config.get("TRUST") else None
    if checker is None:
        log.warning("CDS Hooks JWT checks are OFF: hook calls are unauthenticated (start with --trust ISSUER=JWKS)")
    limits = app.extensions["fhir_ire.limits"]
    audit = AuditStore(config.get("AUDIT_STORE"), int(config.get("AUDIT_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS),
                       config.get("AUDIT_SYNC") or "normal")
    app.extensions["fhir_ire.audit"] = audit
    feedback_bytes = int(config.get("FEEDBACK_MAX_BYTES") or FEEDBACK_MAX_BYTES)
    feedback_items = int(config.get("FEEDBACK_MAX_ITEMS") or FEEDBACK_MAX_ITEMS)
    bp = Blueprint("cds", __name__)

    def authenticate() -> dict:
        """The token's claims ({} when JWT checks are off); AuthError when refused."""
        if checker is None:
            return {}
        audience = (config.get("BASE_URL") + request.path) if config.get("BASE_URL") else request.base_url
        try:
            return checker.check(request.headers.get("Authorization"), audience)
        except AuthError as e:
            log.info("rejected CDS Hooks call to %s: %s", loggable(request.path), loggable(e))  # never the token
            raise FhirError(f"unauthorized: {e}", status=401, code="login") from None

    def service_of(service_id) -> dict:
        if service_id not in engine.services:
            raise NotFound(f"unknown CDS service '{service_id}'")
        return engine.services[service_id]

    fhir_base = base_url(config, prefix.rsplit("/cds-services", 1)[0] + "/fhir")  # for the card links

    @bp.errorhandler(FhirError)
    def on_error(err):
        return jsonify(error_outcome(err)), err.status

    @bp.get("")
    @bp.get("/")
    def discovery():
        authenticate()
        return jsonify(engine.discovery)

    def kept(what: str, record, *args, **kwargs) -> None:
        """found-37: an answer whose record cannot be kept is not given (503, the client may call again)."""
        try:
            record(*args, **kwargs)
        except AuditError as e:
            log.error("%s not answered: %s", what, e)
            raise FhirError("The audit store is not available; call again later", status=503,
                            code="transient") from None

    response_class = app.response_class

    def encoded(answer: dict, status: int):
        """The response and its body's text (the audit record keeps the answer as sent, encoded once)."""
        try:
            data = orjson.dumps(answer, option=ENCODING)
        except (TypeError, orjson.JSONEncodeError):  # what orjson refuses: web/encoding.py's way
            response = json_response(answer, status)
            return response, (response[0] if isinstance(response, tuple) else response).get_data(as_text=True)
        return response_class(data, status=status, mimetype="application/json"), data.decode()

    @bp.post("/<service_id>")
    def call(service_id):
        client = authenticate().get("iss")
        service = service_of(service_id)
        body, outcome, status = None, None, 200
        try:
            raw = read_body(limits)
            body = parse_call(raw, service, limits)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("CDS Hooks %s call, hookInstance %s", service_id, loggable(body.get("hookInstance")))
            outcome = evaluate(engine, service_id, body, fhir_base())
            answer = outcome.response
        except FhirError as err:
            status, answer = err.status, error_outcome(err)
        except (TypeError, AttributeError, KeyError, ValueError) as e:
            # FHIR content the schema lets through but that is not shaped as FHIR (a payor that is not a list...)
            log.info("malformed FHIR content in a %s call: %s", service_id, type(e).__name__)
            status, answer = 400, error_outcome(InvalidRequest("the request's FHIR resources are malformed "
                                                               "(context or prefetch)"))
        response, text = encoded(answer, status)
        kept(f"CDS Hooks {service_id} call", audit.record_call, service=service_id, hook=service["hook"],
             hook_instance=str(body.get("hookInstance")) if body else None, client=client, status=status,
             payer=outcome.payer_id if outcome else None, orders=outcome.orders if outcome else None,
             request=body, request_text=raw.decode() if body else None,  # parse_call checked it is UTF-8
             response=JsonText(text))
        return response

    for known in engine.services:  # each service's own rule: matched by a lookup, not by a converter's pattern
        bp.add_url_rule(f"/{known}", "call", call, methods=["POST"], defaults={"service_id": known})

    @bp.post("/<service_id>/feedback")
    def on_feedback(service_id):
        client = authenticate().get("iss")
        service_of(service_id)
        if (request.content_length or 0) > feedback_bytes:
            raise TooLarge(f"A feedback post is at most {feedback_bytes:,} bytes")
        raw = request.get_data()
        if len(raw) > feedback_bytes:
            raise TooLarge(f"A feedback post is at most {feedback_bytes:,} bytes")
        items = parse_feedback(raw, limits, feedback_items)
        kept(f"CDS Hooks {service_id} feedback", audit.record_feedback, service_id, client, items)
        return jsonify(received=len(items))

    app.register_blueprint(bp, url_prefix=prefix)
