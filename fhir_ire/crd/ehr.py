"""Reading from an EHR's FHIR server (missing prefetch), safely: only URLs that, normalised, lie under an
allow-listed base (no `..` or encoded-slash path tricks, no user info), no redirect to another origin, and every
response streamed under a size limit and a deadline that a slow drip cannot stretch (at most twice the timeout:
the deadline is checked between reads, each read waits at most the timeout)."""

import json
import time
from urllib.parse import unquote, urljoin, urlsplit

import requests

from fhir_ire import budget
from fhir_ire.errors import IreError

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


class FetchRefused(IreError):
    """The read did not happen or its answer is not used; str() says why (shown to the clinician as a gap)."""


def normalise(url: str) -> tuple[str, str, str] | None:
    """(scheme, authority, path) with scheme and host lower-cased and the default port dropped; None for a URL this
    service never calls: not http(s), user info, a bad port, or a path segment that is `.` or `..` or hides a slash
    or a backslash, encoded or not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc or "\\" in url:
        return None
    for segment in parts.path.split("/"):
        plain = unquote(segment)
        if plain in (".", "..") or "/" in plain or "\\" in plain:
            return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    authority = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return scheme, authority, parts.path.rstrip("/")


def is_within(url: str, base: str) -> bool:
    """url lies on base's origin and under its path (https://ehr.example.org.evil.test never passes for
    https://ehr.example.org, nor http://allowed/fhir/../admin for http://allowed/fhir)."""
    u, b = normalise(url), normalise(base)
    if u is None or b is None or u[:2] != b[:2]:
        return False
    return not b[2] or u[2] == b[2] or u[2].startswith(b[2] + "/")


def is_allowed(url: str, allowed: list[str]) -> bool:
    return any(is_within(url, a) for a in allowed)


def get_json(url: str, token: str | None, allowed: list[str], max_bytes: int, timeout: float):
    """The JSON a GET of url answers, or FetchRefused saying why not."""
    origin = normalise(url)
    headers = {"Accept": "application/fhir+json", "Accept-Encoding": "identity"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for _ in range(MAX_REDIRECTS + 1):
        if not is_allowed(url, allowed) or normalise(url)[:2] != origin[:2]:
            raise FetchRefused("the FHIR server redirected to a server not on this service's allow-list"
                               if normalise(url) != origin else "the FHIR server is not on this service's allow-list")
        budget.check("reading from the EHR's FHIR server")
        wait = max(0.05, budget.remaining(timeout))
        try:
            with requests.get(url, headers=headers, timeout=(wait, wait), stream=True, allow_redirects=False) as r:
                if r.is_redirect and r.headers.get("Location"):
                    url = urljoin(url, r.headers["Location"])
                    continue
                if r.status_code != 200:
                    raise FetchRefused(f"the FHIR server answered HTTP {r.status_code}")
                return _parse(_read(r, max_bytes, time.monotonic() + wait))
        except requests.RequestException as e:
            raise FetchRefused(f"the FHIR server could not be reached ({type(e).__name__})") from None
    raise FetchRefused(f"the FHIR server redirected more than {MAX_REDIRECTS} times")


def _read(r, max_bytes: int, deadline: float) -> bytes:
    if r.headers.get("Content-Encoding", "identity").lower() != "identity":
        raise FetchRefused("the FHIR server sent a compressed answer although asked not to")
    declared = r.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchRefused(f"the FHIR server's answer is larger than {max_bytes:,} bytes")
    parts, size = [], 0
    while chunk := r.raw.read1(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FetchRefused(f"the FHIR server's answer is larger than {max_bytes:,} bytes")
        if time.monotonic() > deadline:
            raise FetchRefused("the FHIR server did not answer in time")
        parts.append(chunk)
    return b"".join(parts)


def _parse(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise FetchRefused("the FHIR server did not answer JSON") from None
