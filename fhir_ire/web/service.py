"""What every route of the service shares: health and readiness, CORS for browser clients, and refusing formats we
do not produce (FHIR XML) with a 406 OperationOutcome in JSON."""

import json

from flask import Blueprint, Response, jsonify, request

from fhir_ire import __version__

CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = ["Authorization", "Content-Type", "Accept", "Accept-Language", "Prefer", "X-Request-ID"]
CORS_EXPOSED = "X-Request-ID, Location, Content-Location, ETag"
CORS_MAX_AGE = "600"
JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
XML_FORMATS = {"xml", "text/xml", "application/xml", "application/fhir+xml", "application/xml+fhir"}


def health(index, prefix: str = "") -> Blueprint:
    """/health (summary), /health/live (the process answers), /health/ready (the bundles are loaded and usable)."""
    bp = Blueprint("fhir_ire_health", __name__)
    built = index_built(index)
    counts = {t: len(index.by_type[t]) for t in index.types()}

    def ready() -> bool:
        return bool(index.sources) or bool(getattr(index, "allow_empty", False))

    @bp.get("/health")
    def summary():
        return jsonify(status="ok" if ready() else "not-ready", version=__version__, built=built,
                       bundles=index.sources, resources=counts), 200 if ready() else 503

    @bp.get("/health/live")
    def live():
        return jsonify(status="ok")

    @bp.get("/health/ready")
    def readiness():
        return jsonify(status="ready" if ready() else "not-ready", bundles=len(index.sources),
                       resources=sum(counts.values())), 200 if ready() else 503

    return bp


def index_built(index) -> str | None:
    """The build date the loaded bundles record (Bundle.timestamp, the build's as-of date)."""
    stamps = sorted(getattr(index, "timestamps", {}).values())
    return stamps[-1][:10] if stamps else None


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def install_cors(app, origins: list[str], prefixes: list[str]) -> None:
    """Answer CORS preflights and add CORS headers on our routes, for the configured origins only."""
    allow_any = "*" in origins

    def allowed(origin: str | None) -> bool:
        return bool(origin) and (allow_any or origin.rstrip("/") in origins)

    @app.before_request
    def preflight():
        req = request._get_current_object()  # one context lookup, not one per attribute (runs on every request)
        if req.method != "OPTIONS" or not _under(req.path, prefixes):
            return None
        if not req.headers.get("Access-Control-Request-Method"):
            return None  # a plain OPTIONS: Flask answers it with Allow (JSON, web/guard.py)
        if not allowed(req.headers.get("Origin")):
            return jsonify(error="CORS preflight refused: this origin is not allowed (serve --cors-origin)"), 403
        return Response(status=204, headers={
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Allow-Headers": ", ".join(CORS_HEADERS),
            "Access-Control-Max-Age": CORS_MAX_AGE})

    @app.after_request
    def headers(response):
        req = request._get_current_object()
        origin = req.environ.get("HTTP_ORIGIN")  # the Origin header; most requests have none
        if origin and _under(req.path, prefixes) and allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = "*" if allow_any else origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
            if not allow_any:
                response.vary.add("Origin")
        return response


def install_negotiation(app, fhir_prefix: str, not_acceptable) -> None:
    """FHIR XML asked for (Accept or _format) gets 406 with an OperationOutcome in JSON; JSON forms are accepted."""

    @app.before_request
    def negotiate():
        req = request._get_current_object()
        if not _under(req.path, [fhir_prefix]):
            return None
        fmt = (req.args.get("_format") or "").strip().lower() if req.environ.get("QUERY_STRING") else ""
        if fmt and fmt.split(";")[0].strip() not in JSON_FORMATS:
            return not_acceptable(f"_format={fmt} is not supported; this server answers FHIR JSON "
                                  "(_format=json or application/fhir+json)")
        if not fmt and wants_only_xml(req.environ.get("HTTP_ACCEPT", "")):
            return not_acceptable("this server answers FHIR JSON only (Accept: application/fhir+json)")
        return None


def wants_only_xml(accept: str) -> bool:
    """True when the Accept header lists XML types and nothing JSON or wildcard we could answer with."""
    if "xml" not in accept.lower():  # every XML type names it
        return False
    types = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    return bool(types) and any(t in XML_FORMATS for t in types) and not any(
        t in JSON_FORMATS or t in ("*/*", "application/*") for t in types)


def outcome_406(message: str) -> Response:
    body = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-supported", "diagnostics": message}]}
    return Response(json.dumps(body), status=406, mimetype="application/fhir+json")
