"""CDS Hooks endpoints under /cds-services: discovery, service calls, feedback. JSON errors, never a 5xx for
bad input; JWT checks when issuers are trusted."""

import logging
import threading
from functools import lru_cache

import jsonschema
from flask import Blueprint, jsonify, request

from fhir_ire.data import load as load_data
from fhir_ire.crd.hooks import CrdEngine, decide
from fhir_ire.crd.security import AuthError, JwtChecker
from fhir_ire.web.guard import loggable
from fhir_ire.web.limits import check_hook_size, parse_json

log = logging.getLogger("fhir_ire.cds")


@lru_cache(maxsize=1)
def request_validator():
    return jsonschema.Draft7Validator(load_data("crd/request-schema.json"))


def init(app, index, config, prefix="/cds-services"):
    engine = CrdEngine(index, config)
    app.extensions["fhir_ire.crd"] = engine
    checker = JwtChecker(config["TRUST"], config.get("JTI_STORE")) if config.get("TRUST") else None
    if checker is None:
        log.warning("CDS Hooks JWT checks are OFF: hook calls are unauthenticated (start with --trust ISSUER=JWKS)")
    feedback, lock = [], threading.Lock()
    limits = app.extensions["fhir_ire.limits"]
    bp = Blueprint("cds", __name__)

    def error(status, message):
        return jsonify(error=message), status

    def authenticate():
        if checker is None:
            return None
        audience = (config.get("BASE_URL") + request.path) if config.get("BASE_URL") else request.base_url
        try:
            checker.check(request.headers.get("Authorization"), audience)
        except AuthError as e:
            log.info("rejected CDS Hooks call to %s: %s", loggable(request.path), loggable(e))  # never the token
            return error(401, f"unauthorized: {e}")
        return None

    def guard(service_id):
        """The answer that refuses a call before it is read: 401 for a bad token, 404 for an unknown service."""
        if denied := authenticate():
            return denied
        if service_id not in engine.services:
            return error(404, f"unknown CDS service '{service_id}'")
        return None

    def fhir_base():
        return (config.get("BASE_URL") or request.host_url.rstrip("/")) + prefix.rsplit("/cds-services", 1)[0] + "/fhir"

    @bp.get("")
    @bp.get("/")
    def discovery():
        return authenticate() or jsonify(engine.discovery)

    @bp.post("/<service_id>")
    def call(service_id):
        if refused := guard(service_id):
            return refused
        body = parse_json(request.get_data(), limits)
        check_hook_size(body, limits)  # before the schema and the engine work through it
        problems = sorted(request_validator().iter_errors(body), key=lambda e: list(e.path)) \
            if isinstance(body, dict) else None
        if problems is None:
            return error(400, "the request body must be a JSON object")
        if problems:
            where = "/".join(str(p) for p in problems[0].absolute_path) or "(root)"
            return error(400, f"invalid CDS Hooks request at {where}: {problems[0].message}")
        if body["hook"] != engine.services[service_id]["hook"]:
            return error(400, f"service '{service_id}' is for hook '{engine.services[service_id]['hook']}', "
                              f"not '{body['hook']}'")
        log.info("CDS Hooks %s call, hookInstance %s", service_id, loggable(body.get("hookInstance")))
        try:
            return jsonify(decide(engine, service_id, body, fhir_base()))
        except (TypeError, AttributeError, KeyError, ValueError) as e:
            # FHIR content the schema lets through but that is not shaped as FHIR (a payor that is not a list...)
            log.info("malformed FHIR content in a %s call: %s", service_id, type(e).__name__)
            return error(400, "the request's FHIR resources are malformed (context or prefetch)")

    @bp.post("/<service_id>/feedback")
    def on_feedback(service_id):
        if refused := guard(service_id):
            return refused
        body = parse_json(request.get_data(), limits, "The feedback body")
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return error(400, "feedback must be an object with a 'feedback' array")
        with lock:
            feedback.extend({"service": service_id, "card": f.get("card"), "outcome": f.get("outcome")}
                            for f in items if isinstance(f, dict))
        return jsonify(received=len(items))

    app.extensions["fhir_ire.cds_feedback"] = feedback
    app.register_blueprint(bp, url_prefix=prefix)
