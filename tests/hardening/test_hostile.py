"""The hostile inputs of issue 11, sent to the real server (`fhir-ire serve`, granian): each gets a clear JSON
4xx quickly, the server keeps answering, and nothing reaches a server the allow-list does not name."""

import json
import socket
import time

import pytest
import requests

from tests.conftest import ROOT, serve_process
from tests.hardening.conftest import QuietHandler, http_server, order_sign

pytestmark = pytest.mark.integration
POSTS = ["/fhir/CodeSystem/$lookup", "/fhir/ValueSet/$expand", "/fhir/ConceptMap/$translate",
         "/fhir/ValueSet/$validate-code", "/cds-services/order-sign-crd", "/cds-services/order-sign-crd/feedback"]


class Ehr(QuietHandler):
    """An EHR FHIR server that drips its answers, one byte every 0.2 s; it records every path asked for."""
    seen: list = []

    def do_GET(self):  # noqa: N802
        Ehr.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100):  # bounded: the service hangs up long before
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


@pytest.fixture(scope="module")
def ehr():
    with http_server(Ehr) as base:
        yield base


@pytest.fixture(scope="module")
def server(ehr, tmp_path_factory):
    log = tmp_path_factory.mktemp("hostile") / "serve.log"
    args = ["--bundles", str(ROOT / "bundles"), "--workers", "1", "--fhir-server", ehr + "/fhir",
            "--fhir-server-timeout", "1"]
    with serve_process(args, log) as base:
        yield base
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def post(server, path, data: bytes, **kw):
    return requests.post(server + path, data=data, headers={"Content-Type": "application/json"}, timeout=30, **kw)


def message(r) -> str:
    body = r.json()
    return body["issue"][0]["details"]["text"] if body.get("resourceType") == "OperationOutcome" else body["error"]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("body, status, text", [
    (b"[" * 10_000, 400, "nested"),
    (b'{"resourceType": "Parameters", "n": ' + b"7" * 5000 + b"}", 400, "5,000 characters"),
    (b'{"resourceType": "Parameters", "s": "\\ud800"}', 400, "lone UTF-16 surrogate"),
    (b'{"resourceType": "Parameters", "n": NaN}', 400, "NaN"),
    (b"\xff\xfe{}", 400, "UTF-8"),
], ids=["deep-nesting", "long-number", "lone-surrogate", "nan", "not-utf8"])
def test_hostile_json_is_a_json_400_on_every_post_route(server, path, body, status, text):
    r = post(server, path, body)
    assert r.status_code == status and text in message(r)
    assert r.headers["Content-Type"].startswith(("application/json", "application/fhir+json"))


@pytest.mark.parametrize("parameter", [
    {"name": "code", "valueCoding": {"code": "0600T"}}, {"name": "system", "valueString": ["a"]},
    {"name": ["code"]}, {"name": "code", "valueCode": {"x": 1}}], ids=["coding-for-code", "list", "name-list", "obj"])
def test_parameters_of_the_wrong_type_are_4xx(server, parameter):
    body = {"resourceType": "Parameters", "parameter": [parameter]}
    r = post(server, "/fhir/CodeSystem/$lookup", json.dumps(body).encode())
    assert 400 <= r.status_code < 500 and r.json()["resourceType"] == "OperationOutcome"


def test_ten_thousand_draft_orders_are_refused_by_size_at_once(server):
    data = json.dumps(order_sign(10_000)).encode()
    started = time.monotonic()
    r = post(server, "/cds-services/order-sign-crd", data)
    assert len(data) > 2 * 1024 * 1024 and r.status_code == 413 and "at most 2,097,152" in message(r)
    assert time.monotonic() - started < 5


def test_a_hundred_draft_orders_are_refused_before_any_work(server):
    started = time.monotonic()
    r = post(server, "/cds-services/order-sign-crd", json.dumps(order_sign(100)).encode())
    assert r.status_code == 422 and "100 orders; this service takes at most 50" in message(r)
    assert time.monotonic() - started < 2


def raw_request(server: str, head: bytes, body: bytes = b"", wait: float = 5) -> bytes:
    host, port = server.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_declared_100_mb_body_is_refused_before_it_is_sent(server):
    head = (b"POST /cds-services/order-sign-crd/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n")
    started = time.monotonic()
    answer = raw_request(server, head)  # not one byte of the body is sent
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 3


def test_a_chunked_body_over_the_limit_is_refused_while_reading(server):
    def chunks():
        for _ in range(48):  # 3 MiB
            yield b" " * 65536
    r = requests.post(server + "/fhir/CodeSystem/$lookup", data=chunks(), timeout=30,
                      headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 413 and r.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("method, path, status", [
    ("PUT", "/cds-services", 405), ("GET", "/cds-services/unknown", 405), ("GET", "/unknown", 404),
    ("OPTIONS", "/cds-services", 200), ("OPTIONS", "/fhir/metadata", 200), ("DELETE", "/fhir/CodeSystem/x", 405)])
def test_no_route_answers_html(server, method, path, status):
    r = requests.request(method, server + path, timeout=10)
    assert r.status_code == status and "html" not in r.headers["Content-Type"]
    r.json()


def test_a_dot_dot_fhir_server_is_never_fetched(server, ehr):
    Ehr.seen.clear()
    body = order_sign(1)  # coverage prefetched, conditions not: the service would read them from fhirServer
    body["fhirServer"] = ehr + "/fhir/../admin"
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer", "expires_in": 60, "scope": "s",
                                 "subject": "s"}
    r = post(server, "/cds-services/order-sign-crd", json.dumps(body).encode())
    assert r.status_code == 200, r.text
    assert Ehr.seen == []
    assert "allow-list" in json.dumps(r.json()["cards"])


def test_a_dripping_fhir_server_holds_a_hook_call_only_for_its_timeout(server, ehr):
    Ehr.seen.clear()
    body = order_sign(1)  # coverage prefetched, conditions read from the dripping server
    body["fhirServer"] = ehr + "/fhir"
    started = time.monotonic()
    r = post(server, "/cds-services/order-sign-crd", json.dumps(body).encode())
    elapsed = time.monotonic() - started
    assert r.status_code == 200 and "did not answer in time" in json.dumps(r.json()["cards"])
    assert len(Ehr.seen) == 1 and elapsed < 2 + 1  # at most twice the 1 s timeout
    assert requests.get(server + "/health", timeout=5).json()["status"] == "ok"
