"""Reads answered before Flask: a plain GET of a resource that Flask has already read once gets the JSON the read
kept (web/fhir.py), the way WhiteNoise serves static files before the framework. The served bundles never change
while served, so the answer is the one Flask gave; anything that could make it differ goes to Flask."""

FHIR_JSON = "application/fhir+json"


class KeptReads:
    """WSGI middleware for create_app (the app is ours alone). Flask still answers every request that has a query,
    a body, an Origin (CORS headers), an Accept naming XML (406), a method other than GET, or a resource not yet
    read; a request it answers here holds no permit, as it does no work."""

    def __init__(self, app, kept: dict, prefix: str = "/fhir/"):
        self.app, self.kept, self.prefix = app, kept, prefix

    def __call__(self, environ, start_response):
        body = self.kept_body(environ)
        if body is None:
            return self.app(environ, start_response)
        start_response("200 OK", [("Content-Type", FHIR_JSON), ("Content-Length", str(len(body)))])
        return [body]

    def kept_body(self, environ) -> bytes | None:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(self.prefix) \
                or environ.get("QUERY_STRING") or environ.get("CONTENT_LENGTH") \
                or environ.get("HTTP_TRANSFER_ENCODING") or environ.get("HTTP_ORIGIN") \
                or "xml" in environ.get("HTTP_ACCEPT", "").lower():
            return None
        rtype, _, rid = path[len(self.prefix):].partition("/")
        return self.kept.get((rtype, rid)) if "/" not in rid else None
