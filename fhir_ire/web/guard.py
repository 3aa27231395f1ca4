"""What every route of ours gets, whichever blueprint serves it: the body-size limit and the time budget, JSON errors
(an OperationOutcome under the FHIR base, CDS Hooks style {"error": ...} elsewhere; never an HTML page, never a
stack trace), JSON answers to OPTIONS, and request data escaped before it reaches a log line."""

import json
import logging
import re

from flask import Response, request
from werkzeug.exceptions import HTTPException

from fhir_ire import budget
from fhir_ire.errors import FhirError
from fhir_ire.limits import Limits
from fhir_ire.terminology.outcome import error_outcome
from fhir_ire.web.admission import NO_BODY, Permits
from fhir_ire.web.limits import check_length

log = logging.getLogger("fhir_ire.web")
FHIR_JSON = "application/fhir+json"
ISSUE_CODES = {404: "not-found", 405: "not-supported", 413: "too-long", 415: "not-supported", 422: "too-costly"}
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def loggable(value, limit: int = 200) -> str:
    """Request data fit for one log line: control characters and line breaks escaped, at most limit characters."""
    text = _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
    return text if len(text) <= limit else f"{text[:limit]}...(+{len(text) - limit} chars)"


def json_error(status: int, message: str) -> Response:
    """The error body outside /fhir and /cds-services (health, openapi, unknown paths)."""
    return Response(json.dumps({"error": message}, ensure_ascii=False), status=status, mimetype="application/json")


def init(app, config: dict, prefix: str = "") -> Limits:
    """Install the limits and the JSON error answers for the paths under prefix (for every path when the app is
    ours alone: create_app sets app.extensions["fhir_ire.standalone"])."""
    limits = Limits.from_config(config)
    app.extensions["fhir_ire.limits"] = limits
    fhir_base = prefix + "/fhir"
    roots = [prefix + r for r in ("/fhir", "/cds-services", "/health", "/openapi.json")]

    def is_ours(path: str) -> bool:
        return app.extensions.get("fhir_ire.standalone") or any(path == r or path.startswith(r + "/") for r in roots)

    def is_fhir(path: str) -> bool:
        return path == fhir_base or path.startswith(fhir_base + "/")

    def is_cds(path: str) -> bool:
        return path == prefix + "/cds-services" or path.startswith(prefix + "/cds-services/")

    def error(err: FhirError) -> Response:
        if is_fhir(request.path) or is_cds(request.path):  # CRD hook-10: CDS Hooks errors carry an OperationOutcome
            return Response(json.dumps(error_outcome(err), ensure_ascii=False), status=err.status,
                            mimetype=FHIR_JSON if is_fhir(request.path) else "application/json")
        return json_error(err.status, err.diagnostics)

    # At most THREADS requests of a worker work at once, and a request takes its permit only once its whole body
    # is in: a client sending its body slowly (or never) waits in a thread of its own (the server gives each open
    # connection one, up to --max-connections) without keeping the others from working. Granian cannot time out
    # or abandon that read (docs/hardening.md). Permits are granted first come, first served (web/admission.py);
    # under create_app they are taken before Flask by its Admission middleware, which marks the request admitted.
    # No THREADS: no permits.
    permits = Permits(config["THREADS"]) if config.get("THREADS") else None
    app.extensions["fhir_ire.permits"] = permits

    def admit(environ) -> None:
        """A permit and the time budget, for a request that is about to work (in Flask, or before it: web/direct.py);
        no second permit for a request already admitted before them (web/admission.py)."""
        if permits is not None and "fhir_ire.admitted" not in environ:
            permits.acquire()
            environ["fhir_ire.permit"] = permits
        budget.start(limits.time_budget)

    def leave(environ) -> None:
        budget.stop()
        if permit := environ.pop("fhir_ire.permit", None):
            permit.release()

    app.extensions["fhir_ire.admission"] = (admit, leave)

    @app.before_request
    def limit_request():
        req = request._get_current_object()  # one context lookup, not one per attribute (runs on every request)
        if not is_ours(req.path):
            return
        req.max_content_length = limits.max_body_bytes + 1  # werkzeug stops a chunked body there (read_body)
        check_length(req.content_length, limits)         # and a declared longer one before reading a byte
        if req.method not in NO_BODY:
            req.get_data(cache=True)  # kept for read_body; read while the request holds no permit
        admit(req.environ)

    @app.teardown_request
    def end_budget(_exc=None):
        leave(request.environ)

    @app.after_request
    def json_options(response):
        req = request._get_current_object()
        if req.method == "OPTIONS" and is_ours(req.path) and response.mimetype == "text/html":
            allow = sorted(m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip())
            response.set_data(json.dumps({"allow": allow}))
            response.mimetype = "application/json"
        return response

    host = {code: dict(app.error_handler_spec[None].get(code, {})) for code in (None, 404, 405)}

    def host_handler(err: Exception):
        """The host app's own handler for err (registered before mount), if it has one."""
        code = getattr(err, "code", None) if isinstance(err, HTTPException) else None
        return next((h for cls in type(err).__mro__ for c in (code, None) if c in host
                     for h in [host[c].get(cls)] if h), None)

    def on_http_error(err: HTTPException):
        if not is_ours(request.path):
            handler = host_handler(err)
            return handler(err) if handler else err
        response = error(FhirError(err.description or err.name, status=err.code or 500,
                                   code=ISSUE_CODES.get(err.code, "invalid")))
        if err.code == 405 and getattr(err, "valid_methods", None):
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    def on_fhir_error(err: FhirError):
        if not is_ours(request.path):
            raise err
        return error(err)

    def on_unexpected(err: Exception):
        if not is_ours(request.path):
            if handler := host_handler(err):
                return handler(err)
            raise err
        log.exception("unexpected error on %s %s", request.method, loggable(request.path))
        return error(FhirError("Internal error; see the server log", status=500, code="exception"))

    app.register_error_handler(HTTPException, on_http_error)
    for code in (404, 405):  # a host's own 404/405 handler would otherwise answer under our prefixes too
        app.register_error_handler(code, on_http_error)
    app.register_error_handler(FhirError, on_fhir_error)
    app.register_error_handler(Exception, on_unexpected)
    return limits
