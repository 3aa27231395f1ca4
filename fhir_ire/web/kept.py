"""Reads and searches answered before Flask: a plain GET that Flask has already answered once gets the JSON kept
from that answer (web/fhir.py), the way WhiteNoise serves static files before the framework. The served bundles
never change while served, so the answer is the one Flask gave; anything that could make it differ goes to Flask."""

from fhir_ire.web.guard import FHIR_JSON

WHERE = ("PATH_INFO", "QUERY_STRING", "HTTP_HOST", "wsgi.url_scheme", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT")


def search_key(environ) -> tuple:
    """What a search's answer depends on: its path and query, and where the client reached us (links)."""
    return tuple(environ.get(name) for name in WHERE)


class Kept:
    """WSGI middleware for create_app (the app is ours alone). Flask still answers every request that has a body,
    an Origin (CORS headers), an Accept naming XML (406), a method other than GET, a read with a query, or that it
    has not answered yet; a request answered here holds no permit, as it does no work."""

    def __init__(self, app, reads: dict, searches: dict, prefix: str = "/fhir/"):
        self.app, self.reads, self.searches, self.prefix = app, reads, searches, prefix

    def __call__(self, environ, start_response):
        body = self.kept_body(environ)
        if body is None:
            return self.app(environ, start_response)
        start_response("200 OK", [("Content-Type", FHIR_JSON), ("Content-Length", str(len(body)))])
        return [body]

    def kept_body(self, environ) -> bytes | None:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(self.prefix) \
                or environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING") \
                or environ.get("HTTP_ORIGIN") or "xml" in environ.get("HTTP_ACCEPT", "").lower():
            return None
        rtype, slash, rid = path[len(self.prefix):].partition("/")
        if not slash:
            return self.searches.get(search_key(environ))
        return self.reads.get((rtype, rid)) if "/" not in rid and not environ.get("QUERY_STRING") else None
