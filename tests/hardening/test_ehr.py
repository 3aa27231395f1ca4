"""Reads from an EHR's FHIR server: the allow-list compares normalised URLs, redirects never leave the origin,
and a huge or dripping answer is cut off by size and time instead of holding the hook call."""

import json
import time

import pytest

from fhir_ire.crd.ehr import FetchRefused, get_json, is_allowed, is_within
from tests.hardening.conftest import QuietHandler, http_server


class Ehr(QuietHandler):
    """/fhir/ok: a resource; /fhir/big: 10 MB declared and sent; /fhir/chunked-big: endless chunks;
    /fhir/drip: one byte every 0.1 s; /fhir/hop: same-origin redirect; /fhir/away: redirect to another origin."""
    seen: list = []

    def do_GET(self):  # noqa: N802
        Ehr.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/fhir/ok":
            return self.send(200, json.dumps({"resourceType": "Coverage", "id": "c"}).encode())
        if self.path == "/fhir/hop":
            return self.send(302, b"", {"Location": "/fhir/ok"})
        if self.path == "/fhir/away":
            return self.send(302, b"", {"Location": "http://localhost:1/fhir/ok"})
        if self.path == "/fhir/big":
            return self.send(200, b" " * (10 * 1024 * 1024))
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(2000):  # bounded: the client hangs up long before
                piece = b"[" if self.path == "/fhir/drip" else b" " * 65536
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                if self.path == "/fhir/drip":
                    time.sleep(0.1)
        except OSError:
            pass

    def send(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the service hangs up on an answer it will not read
            pass


@pytest.fixture(scope="module")
def ehr():
    with http_server(Ehr) as base:
        yield base


@pytest.mark.parametrize("url, base, expected", [
    ("http://allowed/fhir/Patient/1", "http://allowed/fhir", True),
    ("HTTP://ALLOWED:80/fhir/Patient", "http://allowed/fhir/", True),
    ("http://allowed/fhir/../admin", "http://allowed/fhir", False),
    ("http://allowed/fhir/./Patient", "http://allowed/fhir", False),
    ("http://allowed/fhir/%2e%2e/admin", "http://allowed/fhir", False),
    ("http://allowed/fhir/..%2fadmin", "http://allowed/fhir", False),
    ("http://allowed/fhir/x%2F..%2F..%2Fadmin", "http://allowed/fhir", False),
    ("http://allowed/fhir\\..\\admin", "http://allowed/fhir", False),
    ("http://allowed@evil/fhir", "http://allowed", False),
    ("http://user:pw@allowed/fhir", "http://allowed", False),
    ("http://allowed:99999/fhir", "http://allowed", False),
    ("ftp://allowed/fhir", "ftp://allowed", False),
    ("http://allowed.evil/fhir", "http://allowed", False),
    ("http://allowed/fhirx", "http://allowed/fhir", False),
], ids=lambda v: str(v))
def test_the_allow_list_compares_normalised_urls(url, base, expected):
    assert is_within(url, base) is expected


def test_a_same_origin_redirect_is_followed_with_the_token(ehr):
    Ehr.seen.clear()
    assert get_json(ehr + "/fhir/hop", "tok", [ehr + "/fhir"], 1000, 2)["id"] == "c"
    assert Ehr.seen == [("/fhir/hop", "Bearer tok"), ("/fhir/ok", "Bearer tok")]


def test_a_redirect_to_another_origin_is_not_followed(ehr):
    with pytest.raises(FetchRefused, match="redirected to a server not on this service's allow-list"):
        get_json(ehr + "/fhir/away", "tok", [ehr + "/fhir", "http://localhost:1"], 1000, 2)


def test_a_declared_answer_over_the_size_limit_is_not_read(ehr):
    with pytest.raises(FetchRefused, match="larger than 1,000,000 bytes"):
        get_json(ehr + "/fhir/big", None, [ehr], 1_000_000, 2)


def test_an_endless_chunked_answer_is_cut_at_the_size_limit(ehr):
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="larger than 1,000,000 bytes"):
        get_json(ehr + "/fhir/chunked-big", None, [ehr], 1_000_000, 5)
    assert time.monotonic() - started < 5


def test_a_dripping_answer_is_cut_at_the_deadline(ehr):
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer in time"):
        get_json(ehr + "/fhir/drip", None, [ehr], 1_000_000, 1.0)
    assert time.monotonic() - started < 2.5  # the deadline (1 s) plus at most one read's timeout


def test_a_url_off_the_list_is_never_requested(ehr):
    Ehr.seen.clear()
    with pytest.raises(FetchRefused, match="not on this service's allow-list"):
        get_json(ehr + "/fhir/../admin", "tok", [ehr + "/fhir"], 1000, 2)
    assert Ehr.seen == [] and not is_allowed(ehr + "/fhir/../admin", [ehr + "/fhir"])
