"""Terminology operations by plain GET answered before Flask: `/fhir/{type}/$op?...` and `/fhir/{type}/{id}/$op?...`
go straight to the function the Flask routes call (web/fhir.py: the same parameters, operation, errors and
encoding), holding a permit and the time budget as any request of ours does (web/guard.py), without Flask's request
cycle (context, routing, response object, hooks), which cost more than the operation itself. Nothing is kept:
every request is worked out. Anything that could make Flask's answer differ goes to Flask."""

from urllib.parse import unquote

from werkzeug.http import HTTP_STATUS_CODES

from fhir_ire.web.guard import FHIR_JSON


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
        self.statuses: dict[int, str] = {}

    def __call__(self, environ, start_response):
        route = self.route(environ)
        if route is None:
            return self.app(environ, start_response)
        self.admit(environ)
        try:
            status, body = self.answer(environ, *route)
        finally:
            self.leave(environ)
        line = self.statuses.get(status) or self.statuses.setdefault(status, status_line(status))
        start_response(line, [("Content-Type", FHIR_JSON), ("Content-Length", str(len(body)))])
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
