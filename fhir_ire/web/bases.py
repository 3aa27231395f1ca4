"""Our own base URL as the client reached us (card links, searchset and paging links): --base-url when set, else the
scheme, Host and script root of the request, worked out by werkzeug once per distinct (scheme, Host, root) rather
than on every request."""

from flask import request

MAX_HOSTS = 64  # the Host header is the client's: a few distinct values are kept, never an unbounded number


def base_url(config: dict, path: str):
    """A function of no argument giving the current request's base URL followed by path (e.g. "/fhir")."""
    fixed = config.get("BASE_URL")
    seen: dict[tuple, str] = {}

    def base() -> str:
        if fixed:
            return fixed + path
        where = (request.scheme, request.environ.get("HTTP_HOST"), request.root_path)
        found = seen.get(where)
        if found is None:
            if len(seen) >= MAX_HOSTS:
                seen.clear()
            found = seen[where] = request.host_url.rstrip("/") + path
        return found

    return base
