"""Missing prefetch is read from the EHR's FHIR server: allow-listed origins only, bearer token, short timeouts;
an unreachable or refusing server gives a card, never a 5xx."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fhir_ire import create_app

from .conftest import ROOT, bundle, call, coverage, coverage_info, request, service_request


class FakeEhr(BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802
        FakeEhr.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/fhir/Coverage"):
            body, status = bundle(coverage("Independent Care Health Plan")), 200
        elif self.path.startswith("/fhir/Condition"):
            body, status = {"resourceType": "OperationOutcome", "issue": []}, 403
        else:
            body, status = {"resourceType": "OperationOutcome"}, 404
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def ehr():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEhr)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body_without_coverage(server):
    body = request(orders=[service_request("sr-1", "0600T")])
    body["prefetch"].pop("conditions")
    body["fhirServer"] = server + "/fhir"
    body["fhirAuthorization"] = {"access_token": "secret-token", "token_type": "Bearer", "expires_in": 30,
                                 "scope": "user/Coverage.read", "subject": "crd"}
    return body


def test_missing_prefetch_is_fetched_with_the_bearer_token(ehr):
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": [ehr]}).test_client()
    out = call(client, "order-sign-crd", body_without_coverage(ehr))
    assert coverage_info(out["systemActions"][0])["covered"] == ["not-covered"]
    assert ("/fhir/Coverage?patient=pat-1&status=active", "Bearer secret-token") in FakeEhr.seen
    gaps = next(c for c in out["cards"] if "could not be checked" in c["summary"])
    assert "HTTP 403" in gaps["detail"]  # the refused Condition search is said, not hidden


def test_server_off_the_allow_list_is_not_called(ehr):
    FakeEhr.seen.clear()
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": ["https://other.example.org"]}).test_client()
    out = call(client, "order-sign-crd", body_without_coverage(ehr))
    assert FakeEhr.seen == [] and out["systemActions"] == []
    assert any("allow-list" in c.get("detail", "") for c in out["cards"])


def test_unreachable_server_gives_a_card_not_a_5xx():
    dead = f"http://127.0.0.1:{free_port()}"
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": [dead]}).test_client()
    out = call(client, "order-sign-crd", body_without_coverage(dead))
    gaps = next(c for c in out["cards"] if "could not be checked" in c["summary"])
    assert "could not be reached" in gaps["detail"]


@pytest.mark.parametrize("server, allowed, expected", [
    ("https://ehr.example.org/fhir", "https://ehr.example.org", True),
    ("https://ehr.example.org/fhir/r4", "https://ehr.example.org/fhir", True),
    ("https://ehr.example.org.evil.test/fhir", "https://ehr.example.org", False),
    ("https://ehr.example.org:8443/fhir", "https://ehr.example.org", False),
    ("http://ehr.example.org/fhir", "https://ehr.example.org", False),
    ("https://ehr.example.org/fhirx", "https://ehr.example.org/fhir", False),
], ids=["origin", "path-under", "suffix-host", "other-port", "other-scheme", "path-prefix-only"])
def test_allow_list_compares_origins_not_string_prefixes(server, allowed, expected):
    from fhir_ire.crd.context import Fetcher
    assert Fetcher({"fhirServer": server}, [allowed]).allowed is expected


def test_absolute_order_reference_is_not_fetched(ehr):
    FakeEhr.seen.clear()
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": [ehr]}).test_client()
    body = request(hook="order-dispatch", cov=coverage(), performer="Practitioner/p",
                   dispatchedOrders=["http://attacker.test/ServiceRequest/1"])
    body["context"].pop("userId")
    body["fhirServer"] = ehr + "/fhir"
    out = call(client, "order-dispatch-crd", body)
    assert not any("attacker" in path for path, _ in FakeEhr.seen)
    assert out["systemActions"] == []


def test_patient_id_is_url_encoded_in_fhir_server_searches(ehr):
    FakeEhr.seen.clear()
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": [ehr]}).test_client()
    body = body_without_coverage(ehr)
    body["context"]["patientId"] = "pat-1&_include=*"
    call(client, "order-sign-crd", body)
    assert any(path == "/fhir/Coverage?patient=pat-1%26_include%3D%2A&status=active" for path, _ in FakeEhr.seen)
