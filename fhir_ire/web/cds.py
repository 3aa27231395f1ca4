"""CDS Hooks endpoints under /cds-services: discovery, service calls, feedback. Every error is an OperationOutcome
(CRD hook-10), never a 5xx for bad input; JWT checks when issuers are trusted."""

import logging

from flask import Blueprint, jsonify, request

from fhir_ire.crd.audit import DEFAULT_RETENTION_DAYS, AuditError, AuditStore
from fhir_ire.crd.hooks import CrdEngine
from fhir_ire.crd.security import JwtChecker
from fhir_ire.errors import FhirError, InvalidRequest, NotFound, TooLarge
from fhir_ire.terminology.outcome import error_outcome
from fhir_ire.web.bases import base_url
from fhir_ire.web.cds_call import JSON, HookCalls, unavailable
from fhir_ire.web.cds_request import (for_hook, parse_call, request_check, request_validator,  # noqa: F401
                                      schema_problems)
from fhir_ire.web.limits import parse_json

FEEDBACK_MAX_BYTES = 64 * 1024  # one feedback post (CDS Hooks feedback is a few cards' outcomes)
FEEDBACK_MAX_ITEMS = 100
log = logging.getLogger("fhir_ire.cds")


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

    calls = HookCalls(engine, checker, audit, limits, config.get("BASE_URL"),
                      prefix.rsplit("/cds-services", 1)[0] + "/fhir", prefix)  # the card links' FHIR base
    app.extensions["fhir_ire.hook_calls"] = calls  # for a front that answers the calls before Flask (web/direct.py)
    request_base = base_url(config, "")

    def authenticate() -> dict:
        """The token's claims ({} when JWT checks are off); FhirError 401 when refused."""
        audience = None if checker is None else \
            (config.get("BASE_URL") + request.path) if config.get("BASE_URL") else request.base_url
        return calls.authenticate(request.environ.get("HTTP_AUTHORIZATION"), request.path, audience)

    def service_of(service_id) -> dict:
        if service_id not in engine.services:
            raise NotFound(f"unknown CDS service '{service_id}'")
        return engine.services[service_id]

    @bp.errorhandler(FhirError)
    def on_error(err):
        return jsonify(error_outcome(err)), err.status

    @bp.get("")
    @bp.get("/")
    def discovery():
        authenticate()
        return jsonify(engine.discovery)

    response_class = app.response_class

    @bp.post("/<service_id>")
    def call(service_id):
        req = request._get_current_object()  # one context lookup, not one per attribute
        audience = req.base_url if checker is not None and not config.get("BASE_URL") else None  # JWT aud
        status, data = calls.call(service_id, req.path, req.environ.get("HTTP_AUTHORIZATION"),
                                  req.get_data(cache=True), request_base(), audience)
        return response_class(data, status=status, mimetype=JSON)

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
        try:
            audit.record_feedback(service_id, client, items)
        except AuditError as e:
            raise unavailable(f"CDS Hooks {service_id} feedback", e) from None
        return jsonify(received=len(items))

    app.register_blueprint(bp, url_prefix=prefix)
