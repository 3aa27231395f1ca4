"""The CDS Hooks service in the real `fhir-ire serve` (granian, 2 worker processes) over loopback, with JWT checks:
a token replayed to the server is refused whichever worker answers, because the jti store is shared."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from .conftest import ROOT, coverage, request, service_request

ISS = "https://ehr.example.org"
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cds-serve")
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA384).to_jwk(key.public_key()))
    (folder / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "ES384"}]}))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "fhir_ire.cli", "serve", "--bundles", str(ROOT / "bundles"), "--port", str(port),
           "--workers", "2", "--trust", f"{ISS}={folder / 'jwks.json'}", "--base-url", base,
           "--jti-store", f"sqlite:///{folder / 'jti.sqlite'}"]
    log = open(folder / "serve.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("fhir-ire serve did not start: " + (folder / "serve.log").read_text()[-2000:])
        yield base, key, folder / "serve.log"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def token(key, aud):
    now = int(time.time())
    return jwt.encode({"iss": ISS, "aud": aud, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex}, key,
                      algorithm="ES384", headers={"kid": "k1", "typ": "JWT"})


def test_hook_call_over_loopback_and_replay_refused_by_every_worker(served):
    base, key, log = served
    url = f"{base}/cds-services/order-sign-crd"
    body = request(orders=[service_request("sr-1", "0600T")], cov=coverage("iCare"))
    assert requests.post(url, json=body, timeout=10).status_code == 401
    tok = token(key, url)
    first = requests.post(url, json=body, headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert first.status_code == 200 and first.json()["systemActions"]
    replays = [requests.post(url, json=body, headers={"Authorization": f"Bearer {tok}"}, timeout=10)
               for _ in range(6)]  # spread over both workers
    assert {r.status_code for r in replays} == {401}
    assert "secret" not in log.read_text() and tok not in log.read_text()  # no token in the logs


def test_bad_json_over_loopback_is_400(served):
    base, key, _ = served
    url = f"{base}/cds-services/order-sign-crd"
    r = requests.post(url, data="{", headers={"Authorization": f"Bearer {token(key, url)}",
                                              "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/json")
