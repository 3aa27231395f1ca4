"""The CDS Hooks service in the real `fhir-ire serve` (granian, 2 worker processes) over loopback, with JWT checks:
a token replayed to the server is refused whichever worker answers, because the jti store is shared."""

import json
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from ..conftest import free_port, serve_process
from .conftest import ROOT, coverage, request, service_request

ISS = "https://ehr.example.org"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cds-serve")
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA384).to_jwk(key.public_key()))
    (folder / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "ES384"}]}))
    args = ["--bundles", str(ROOT / "bundles"), "--workers", "2", "--trust", f"{ISS}={folder / 'jwks.json'}",
            "--jti-store", f"sqlite:///{folder / 'jti.sqlite'}"]
    port = free_port()
    with serve_process(args + ["--base-url", f"http://127.0.0.1:{port}"], folder / "serve.log", port=port) as base:
        yield base, key, folder / "serve.log"


def token(key, aud):
    now = int(time.time())
    return jwt.encode({"iss": ISS, "aud": aud, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex}, key,
                      algorithm="ES384", headers={"kid": "k1", "typ": "JWT"})


def test_hook_call_over_loopback_and_replay_refused_by_every_worker(served):
    base, key, log = served
    url = f"{base}/cds-services/order-sign-crd"
    body = request(orders=[service_request("sr-1", "0600T")], cov=coverage("iCare"))
    # as an EHR's connection pool calls: keep-alive connections that stay open between calls, more of them than
    # the server has request threads; the replays go over ten such connections, spread over both workers
    pool = [requests.Session() for _ in range(10)]
    try:
        assert pool[0].post(url, json=body, timeout=10).status_code == 401
        tok = token(key, url)
        signed = {"Authorization": f"Bearer {tok}"}
        first = pool[0].post(url, json=body, headers=signed, timeout=10)
        assert first.status_code == 200 and first.json()["systemActions"]
        replays = [session.post(url, json=body, headers=signed, timeout=10) for session in pool]
        assert {r.status_code for r in replays} == {401}
        assert all(r.headers.get("Connection", "").lower() != "close" for r in replays)  # kept alive
    finally:
        for session in pool:
            session.close()
    assert "secret" not in log.read_text() and tok not in log.read_text()  # no token in the logs


def test_bad_json_over_loopback_is_400(served):
    base, key, _ = served
    url = f"{base}/cds-services/order-sign-crd"
    r = requests.post(url, data="{", headers={"Authorization": f"Bearer {token(key, url)}",
                                              "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/json")
