"""Requests answered before Flask by the functions its routes call, holding a permit and the time budget as any
request of ours does (web/guard.py), without Flask's request cycle (context, routing, response object, hooks), which
cost more than the work itself: terminology operations by plain GET (`/fhir/{type}/$op?...`,
`/fhir/{type}/{id}/$op?...`: web/fhir.py's parameters, operation, errors and encoding) and CDS Hooks service calls
(`POST /cds-services/{id}`: web/cds_call.py). Nothing is kept: every request is worked out. Anything that could make
Flask's answer differ goes to Flask."""

import io
from functools import lru_cache
from urllib.parse import unquote

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.sansio.utils import get_current_url
from werkzeug.wsgi import get_host

from fhir_ire.web.admission import buffer_body
from fhir_ire.web.bases import MAX_HOSTS
from fhir_ire.web.guard import FHIR_JSON


@lru_cache(maxsize=64)
def status_line(status: int) -> str:
    """The status line werkzeug sends for status."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'unknown').upper()}"


class Direct:
    """WSGI middleware for create_app (the app is ours alone). Flask still answers a request with a body, an Origin
    (CORS headers), an Accept naming XML or a _format (406), a method other than GET, a path or query that is not
    ASCII (werkzeug decodes those its own way), or a path other than an operation we serve."""

    def __init__(self, app, operations, answer, admission, prefix: str = "/fhir/"):
        self.app, self.operations, self.answer, self.prefix = app, operations, answer, prefix
        self.admit, self.leave = admission

    def __call__(self, environ, start_response):
        route = self.route(environ)
        if route is None:
            return self.app(environ, start_response)
        self.admit(environ)
        try:
            status, body = self.answer(environ, *route)
        finally:
            self.leave(environ)
        start_response(status_line(status), [("Content-Type", FHIR_JSON), ("Content-Length", str(len(body)))])
        return [body]

    def route(self, environ) -> tuple | None:
        """(type, id or None, operation) of a request answered here, else None."""
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(self.prefix) \
                or environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING") \
                or environ.get("HTTP_ORIGIN") or "xml" in environ.get("HTTP_ACCEPT", "").lower() \
                or not path.isascii() or not query.isascii() \
                or "format" in (unquote(query) if "%" in query else query).lower():  # _format, even escaped
            return None
        parts = path[len(self.prefix):].split("/")
        if len(parts) == 2:
            parts.insert(1, None)
        if len(parts) != 3 or not all(parts[::2]) or parts[1] == "" or (parts[0], parts[2]) not in self.operations:
            return None
        return parts[0], parts[1], parts[2]


def declared_body(environ: dict, max_bytes: int) -> bytes | None:
    """The whole body of a request that declares its length (at most max_bytes), else None: the stream is then left
    as Flask would have found it (web/admission.py has read it into memory, or failed to)."""
    if "fhir_ire.admitted" not in environ:  # no Admission in front (no permits): read it as Admission does
        buffer_body(environ, max_bytes)
    stream = environ["wsgi.input"]
    raw = stream.getvalue() if isinstance(stream, io.BytesIO) else None
    return raw if raw is not None and len(raw) == int(environ["CONTENT_LENGTH"]) else None


class DirectHook:
    """WSGI middleware for create_app (the app is ours alone): a CDS Hooks service call answered by
    HookCalls.answer (web/cds_call.py). Flask still answers a request that HookCalls.route leaves to it (another
    method or path, a query), one with an Origin (CORS headers), a Transfer-Encoding, no Content-Length or a longer
    one than the limit (413), a body not read whole, a root path (SCRIPT_NAME) not ASCII, or when Flask checks the
    Host (TRUSTED_HOSTS)."""

    def __init__(self, app, calls, admission, max_body_bytes: int, flask_config):
        self.app, self.calls, self.max_body_bytes, self.flask_config = app, calls, max_body_bytes, flask_config
        self.admit, self.leave = admission
        self.bases: dict[tuple, tuple[str, str]] = {}

    def __call__(self, environ, start_response):
        service = self.route(environ)
        raw = None if service is None else declared_body(environ, self.max_body_bytes)
        if raw is None:
            return self.app(environ, start_response)
        base, audience = self.urls(environ)
        self.admit(environ)
        try:
            status, headers, body = self.calls.answer(service, environ["PATH_INFO"],
                                                      environ.get("HTTP_AUTHORIZATION"), raw, base, audience)
        finally:
            self.leave(environ)
        start_response(status_line(status), headers)
        return [body]

    def route(self, environ) -> str | None:
        """The service id of a call answered here, else None."""
        service = self.calls.route(environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", ""),
                                   environ.get("QUERY_STRING"))
        length = environ.get("CONTENT_LENGTH", "")
        if service is None or environ.get("HTTP_ORIGIN") or environ.get("HTTP_TRANSFER_ENCODING") \
                or not (length.isascii() and length.isdigit()) or int(length) > self.max_body_bytes \
                or not environ.get("SCRIPT_NAME", "").isascii() or self.flask_config.get("TRUSTED_HOSTS"):
            return None
        return service

    def urls(self, environ) -> tuple[str, str]:
        """The request's base (werkzeug's request.host_url without its slash: scheme and host) and URL (its
        request.base_url: the root path too), as werkzeug works them out, once per scheme, Host, root, server
        address and path."""
        where = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME", ""),
                 environ.get("SERVER_NAME"), environ.get("SERVER_PORT"), environ["PATH_INFO"])
        found = self.bases.get(where)
        if found is None:
            if len(self.bases) >= MAX_HOSTS:  # the Host header is the client's
                self.bases.clear()
            host = get_host(environ)
            found = self.bases[where] = (get_current_url(where[0], host).rstrip("/"),
                                         get_current_url(where[0], host, where[2], where[5]))
        return found
