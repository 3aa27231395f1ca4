"""Apps over the committed bundles (loaded once) with chosen limits, hook requests of a chosen size, and a local
HTTP server standing in for an EHR's FHIR server."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fhir_ire import create_app
from fhir_ire.store import load_bundles
from tests.conftest import ROOT

CPT = "http://www.ama-assn.org/go/cpt"


@pytest.fixture(scope="session")
def index():
    return load_bundles(ROOT / "bundles")


@pytest.fixture(scope="session")
def make_client(index):
    def make(**limits):
        return create_app({"INDEX": index, "LIMITS": limits}).test_client()
    return make


@pytest.fixture(scope="session")
def client(make_client):
    return make_client()


def order_sign(n_orders: int, code: str = "0600T") -> dict:
    orders = [{"resource": {"resourceType": "ServiceRequest", "id": f"sr-{i}", "status": "draft", "intent": "order",
                            "code": {"coding": [{"system": CPT, "code": code}]},
                            "subject": {"reference": "Patient/p1"}}} for i in range(n_orders)]
    return {"hook": "order-sign", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": "p1",
                        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": orders}},
            "prefetch": {"coverage": {"resourceType": "Coverage", "id": "cov", "status": "active",
                                      "payor": [{"display": "Medicare"}], "beneficiary": {"reference": "Patient/p1"}}}}


def error_message(r) -> str:
    """An error's text: an OperationOutcome under /fhir and /cds-services (CRD hook-10), {"error": ...} elsewhere."""
    body = r.json
    return body["issue"][0]["details"]["text"] if body.get("resourceType") == "OperationOutcome" else body["error"]


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]):
    """A loopback HTTP server answering with handler in threads; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
