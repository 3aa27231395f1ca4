"""FHIR REST API under /fhir: metadata, read, search, and the terminology operations (GET and POST)."""

import json
import logging
from urllib.parse import parse_qsl

import orjson

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from fhir_ire.codesets.nucc import load_nucc
from fhir_ire.errors import FhirError, InvalidRequest, NotFound
from fhir_ire.terminology import capabilities
from fhir_ire.terminology.core import load_core
from fhir_ire.terminology.expand import expand
from fhir_ire.terminology.valuesets import resolve_valueset
from fhir_ire.terminology.lookup import lookup, subsumes
from fhir_ire.terminology.outcome import error_outcome, issue, outcome
from fhir_ire.terminology.params import Params
from fhir_ire.limits import Limits
from fhir_ire.terminology.registry import Registry
from fhir_ire.terminology.translate import translate
from fhir_ire.terminology.validate import batch_validate_code, validate_code
from fhir_ire.web.bases import base_url
from fhir_ire.web.guard import FHIR_JSON, loggable
from fhir_ire.web.kept import search_key
from fhir_ire.web.limits import parse_json, read_body

log = logging.getLogger("fhir_ire.fhir")
MAX_ENCODED = 4096  # resources, and searchsets, whose JSON is kept (the loaded bundles do not change while served)
MAX_ENCODED_BYTES = 32 * 1024 * 1024  # and at most this much of it (a client chooses its searches' queries)
OPERATIONS = {
    ("CodeSystem", "$lookup"): lookup,
    ("CodeSystem", "$subsumes"): subsumes,
    ("CodeSystem", "$validate-code"): lambda s, p, i=None: validate_code(s, p, "CodeSystem", i),
    ("ValueSet", "$validate-code"): lambda s, p, i=None: validate_code(s, p, "ValueSet", i),
    ("ValueSet", "$batch-validate-code"): batch_validate_code,
    ("ValueSet", "$expand"): lambda s, p, i=None: expand(s, resolve_valueset(s, p, i), p),
    ("ConceptMap", "$translate"): translate,
}


def encode(data: dict) -> bytes:
    try:
        return orjson.dumps(data)  # several times faster than json.dumps on large resources
    except (TypeError, orjson.JSONEncodeError):  # an integer beyond 64 bits echoed from a request
        return json.dumps(data, ensure_ascii=False).encode()


class Encoded(dict):
    """Encoded answers by key, at most MAX_ENCODED of them and MAX_ENCODED_BYTES in all (emptied when full)."""

    size = 0

    def keep(self, key, body: bytes) -> None:
        if len(self) >= MAX_ENCODED or self.size + len(body) > MAX_ENCODED_BYTES:
            self.clear()
            self.size = 0
        if len(body) <= MAX_ENCODED_BYTES:
            self[key] = body
            self.size += len(body)


def fhir_response(data: dict, status: int = 200) -> Response:
    return Response(encode(data), status=status, content_type=FHIR_JSON)


def error_body(err: FhirError) -> bytes:
    return encode(error_outcome(err))


def unexpected_body(method: str, path: str) -> bytes:
    """The answer to an error we did not foresee (logged with its stack): never a stack trace or an HTML page."""
    log.exception("unexpected error on %s %s", method, loggable(path))
    return encode(outcome([issue("error", "exception", None, "Internal error; see server log")]))


def query_params(environ) -> Params:
    """The query's parameters, decoded as werkzeug decodes request.args (invalid percent escapes kept as they are)."""
    try:
        query = environ.get("QUERY_STRING", "").encode("latin1").decode()
    except UnicodeDecodeError:
        raise InvalidRequest("The query string is not UTF-8: percent-encode its bytes") from None
    return Params.from_query(parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"))


def _params() -> Params:
    if request.method == "POST":
        raw = read_body(current_app.extensions["fhir_ire.limits"])
        if raw.strip():
            body = parse_json(raw, current_app.extensions["fhir_ire.limits"])
            params = Params.from_resource(body)
            query = query_params(request.environ)
            return with_language(Params(query.items + params.items,
                                        {i + len(query.items): k for i, k in params.types.items()}),
                                 request.environ)
    return with_language(query_params(request.environ), request.environ)


def with_language(params: Params, environ) -> Params:
    """Accept-Language acts as displayLanguage when the request has none."""
    header = environ.get("HTTP_ACCEPT_LANGUAGE")  # the header, without a scan of all of them
    if header and not params.has("displayLanguage"):
        params.types[len(params.items)] = "valueCode"
        params.items.append(("displayLanguage", header))
    return params


def init(app, index, config, prefix="/fhir"):
    registry = Registry(index, load_nucc(config.get("NUCC")), load_core(), Limits.from_config(config))
    app.extensions["fhir_ire.registry"] = registry
    bp = Blueprint("fhir", __name__)

    base = base_url(config, prefix)
    # a read encodes a resource once, a search is worked out once; create_app answers the next plain requests for
    # them before Flask (web/kept.py)
    encoded = app.extensions["fhir_ire.kept_reads"] = Encoded()  # (type, id) -> the resource's JSON
    searched = app.extensions["fhir_ire.kept_searches"] = Encoded()  # search_key -> the searchset's JSON

    @bp.errorhandler(FhirError)
    def on_fhir_error(err):
        return Response(error_body(err), status=err.status, content_type=FHIR_JSON)

    @bp.errorhandler(HTTPException)
    def on_http_error(err):
        code = {404: "not-found", 405: "not-supported", 413: "too-long", 415: "not-supported"}.get(err.code, "invalid")
        return fhir_response(outcome([issue("error", code, None, err.description or err.name)]), err.code)

    @bp.errorhandler(Exception)
    def on_unexpected(err):
        return Response(unexpected_body(request.method, request.path), status=500, content_type=FHIR_JSON)

    @bp.get("/metadata")
    def metadata():
        if request.args.get("mode") == "terminology":
            return fhir_response(capabilities.terminology_capabilities(registry.codesystems))
        return fhir_response(capabilities.capability_statement(base(), index.types()))

    @bp.route("/$versions", methods=["GET", "POST"])
    def versions():
        return fhir_response({"resourceType": "Parameters", "parameter": [
            {"name": "version", "valueString": "4.0"}, {"name": "default", "valueString": "4.0"}]})

    @bp.route("/<rtype>/<op>", methods=["GET", "POST"])
    def type_level(rtype, op):
        if op.startswith("$"):
            return Response(operate(rtype, None, op, _params), content_type=FHIR_JSON)
        if request.method != "GET":
            raise FhirError(f"{request.method} is not supported on {rtype}/{op}", status=405, code="not-supported")
        return _read(rtype, op)

    @bp.route("/<rtype>/<rid>/<op>", methods=["GET", "POST"])
    def instance_level(rtype, rid, op):
        if not op.startswith("$"):
            raise NotFound(f"Unknown path {rtype}/{rid}/{op}")
        return Response(operate(rtype, rid, op, _params), content_type=FHIR_JSON)

    @bp.get("/<rtype>")
    def search(rtype):
        _check_type(rtype)
        key = search_key(request.environ)  # path, query, and where the client reached us (the links' base)
        body = searched.get(key)
        if body is None:  # a refused search raises here, and is not kept
            body = encode(capabilities.search(index.all(rtype), request.args, base(), rtype))
            searched.keep(key, body)
        return Response(body, content_type=FHIR_JSON)

    def _check_type(rtype):
        if not rtype[:1].isupper() or not rtype.isalpha():
            raise NotFound(f"Unknown resource type '{rtype}'")

    def _resource(rtype, rid):
        _check_type(rtype)
        res = index.get(rtype, rid)
        if res is None:
            raise NotFound(f"{rtype}/{rid} is not known", tx_issue_type="not-found")
        return res

    def _read(rtype, rid):
        res = _resource(rtype, rid)
        body = encoded.get((rtype, rid))
        if body is None:
            body = encode(res)
            encoded.keep((rtype, rid), body)
        return Response(body, content_type=FHIR_JSON)

    def operate(rtype, rid, op, params) -> bytes:
        """An operation's encoded answer (FhirError when refused); params() gives the request's parameters."""
        instance = _resource(rtype, rid) if rid is not None else None
        func = OPERATIONS.get((rtype, op))
        if func is None:
            raise NotFound(f"Operation {op} is not supported on {rtype}", code="not-supported")
        given = params()
        scope = registry.scope(given.resources("tx-resource"))
        return encode(func(scope, given, instance) if instance is not None else func(scope, given))

    def answer_get(environ, rtype, rid, op) -> tuple[int, bytes]:
        """A plain GET of an operation answered before Flask (web/direct.py): the status and body the routes above
        and their error handlers give it, through the same functions."""
        try:
            return 200, operate(rtype, rid, op, lambda: with_language(query_params(environ), environ))
        except FhirError as err:
            return err.status, error_body(err)
        except Exception:
            return 500, unexpected_body(environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))

    app.extensions["fhir_ire.operations"] = (OPERATIONS, answer_get)

    app.register_blueprint(bp, url_prefix=prefix)
