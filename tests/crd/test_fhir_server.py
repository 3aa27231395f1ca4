"""Missing prefetch is read from the EHR's FHIR server: allow-listed origins only, bearer token, short timeouts;
an unreachable or refusing server gives a card, never a 5xx."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fhir_ire import create_app

from .conftest import ROOT, bundle, call, coverage, coverage_info, error_text, request, service_request


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


def test_server_off_the_allow_list_is_not_called_and_no_coverage_is_hook_13(ehr):
    FakeEhr.seen.clear()
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": ["https://other.example.org"]}).test_client()
    r = client.post("/cds-services/order-sign-crd", json=body_without_coverage(ehr))
    assert FakeEhr.seen == [] and r.status_code == 400 and "No Coverage" in error_text(r)


def test_resp_43_unreachable_server_gives_indeterminate_technical():
    dead = f"http://127.0.0.1:{free_port()}"
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": [dead]}).test_client()
    body = body_without_coverage(dead)
    body["extension"] = {"davinci-crd.requestedVersion": "2.2"}
    out = call(client, "order-sign-crd", body)
    (action,) = out["systemActions"]
    info = coverage_info(action)
    assert info["covered"] == ["indeterminate"] and "pa-needed" not in info
    assert info["reason"][0]["coding"][0]["code"] == "technical" and "could not be reached" in info["reason"][0]["text"]
    assert info["coverage"][0]["type"] == "Coverage"  # no Coverage could be read: the reference says so


def test_resp_43_coverage_reference_comes_from_the_order_when_the_server_is_down():
    dead = f"http://127.0.0.1:{free_port()}"
    client = create_app({"BUNDLES": str(ROOT / "bundles"), "FHIR_SERVERS": [dead]}).test_client()
    body = body_without_coverage(dead)
    body["context"]["draftOrders"]["entry"][0]["resource"]["insurance"] = [{"reference": "Coverage/cov-9"}]
    info = coverage_info(call(client, "order-sign-crd", body)["systemActions"][0])
    assert info["coverage"] == [{"reference": "Coverage/cov-9"}] and info["covered"] == ["conditional"]  # 2.0.1


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
