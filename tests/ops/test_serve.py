"""`fhir-ire serve` as a real process: the ready line, logs, TLS, one-line refusals at start, and worker supervision
(a killed worker is replaced, SIGTERM drains in-flight requests and exits 0, a port in use is refused)."""

import datetime
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ..conftest import ROOT, free_port

pytestmark = pytest.mark.integration
FIXTURE = ROOT / "tests" / "crd" / "fixtures" / "order-sign-not-covered.json"


def get(url, timeout=5.0, context=None):
    with urllib.request.urlopen(url, timeout=timeout, context=context) as r:
        return r.status, json.loads(r.read())


def test_ready_line_in_json_logs_with_address_bundles_and_counts(serve):
    server = serve("--workers", "2", "--log-format", "json")
    line = json.loads(server.wait_for('"event": "ready"'))
    assert f"http://127.0.0.1:{server.port}" in line["message"] and "2 workers" in line["message"]
    assert f"4 bundles from {ROOT / 'bundles'}" in line["message"] and "PlanDefinition" in line["message"]
    status, body = get(f"http://127.0.0.1:{server.port}/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/"
                       "icd-10-cm&code=C25.0")
    assert status == 200
    access = json.loads(server.wait_for('"logger": "fhir_ire.access"', start=server.lines.index(
        next(x for x in server.lines if '"event": "ready"' in x))))
    assert access["path"] == "/fhir/CodeSystem/$lookup?system&code" and access["status"] == 200
    assert all(json.loads(x) for x in server.lines if x.startswith("{"))  # every line is JSON
    assert not [x for x in server.lines if not x.startswith("{")]


def test_a_port_in_use_is_refused_with_one_line(serve):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a granian server holds its port
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        server = serve("--workers", "1", port=holder.getsockname()[1])
        assert server.proc.wait(timeout=60) == 1
        time.sleep(0.2)
        errors = [x for x in server.lines if "error" in x]
        assert errors == [f"fhir-ire serve: error: port {holder.getsockname()[1]} on 127.0.0.1 is already in use by "
                          "another process; stop it or choose another --port"]
    finally:
        holder.close()


def test_a_killed_worker_is_replaced_and_logged(serve):
    server = serve("--workers", "2")
    server.wait_for("ready at")
    before = server.workers()
    assert len(before) == 2
    victim = min(before)
    mark = len(server.lines)
    os.kill(victim, signal.SIGKILL)
    server.wait_for("Unexpected exit from worker", timeout=10, start=mark)
    server.wait_for("Respawning worker", timeout=10, start=mark)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (len(server.workers()) < 2 or victim in server.workers()):
        time.sleep(0.1)
    after = server.workers()
    assert len(after) == 2 and victim not in after
    for _ in range(6):
        assert get(f"http://127.0.0.1:{server.port}/health/ready")[0] == 200


def test_a_worker_that_gets_sigterm_does_not_take_the_server_down(serve):
    server = serve("--workers", "2")
    server.wait_for("ready at")
    victim = min(server.workers())
    mark = len(server.lines)
    os.kill(victim, signal.SIGTERM)
    server.wait_for("Respawning worker", timeout=10, start=mark)
    time.sleep(0.5)
    assert server.proc.poll() is None
    assert get(f"http://127.0.0.1:{server.port}/health")[0] == 200


class SlowFhir(http.server.BaseHTTPRequestHandler):
    """An EHR FHIR server that takes a while to answer the Coverage search the hook needs."""

    def do_GET(self):
        time.sleep(1.2)
        body = json.dumps(json.loads(FIXTURE.read_text())["prefetch"]["coverage"]).encode()  # the patient's Coverage
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_sigterm_drains_in_flight_requests_and_exits_0(serve):
    ehr = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowFhir)
    threading.Thread(target=ehr.serve_forever, daemon=True).start()
    ehr_url = f"http://127.0.0.1:{ehr.server_address[1]}"
    try:
        server = serve("--workers", "2", "--fhir-server", ehr_url)
        server.wait_for("ready at")
        hook = json.loads(FIXTURE.read_text())
        hook["fhirServer"] = ehr_url + "/fhir"
        hook["prefetch"].pop("coverage", None)
        result = {}

        def call():
            req = urllib.request.Request(f"http://127.0.0.1:{server.port}/cds-services/{service_id(server)}",
                                         data=json.dumps(hook).encode(), headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                result["status"] = r.status

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)  # the hook is now waiting on the slow EHR server
        os.kill(server.proc.pid, signal.SIGTERM)
        caller.join(30)
        assert result.get("status") == 200
        assert server.proc.wait(timeout=30) == 0
    finally:
        ehr.shutdown()


def service_id(server) -> str:
    services = get(f"http://127.0.0.1:{server.port}/cds-services")[1]["services"]
    return next(s["id"] for s in services if s["hook"] == "order-sign")


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


def test_tls_with_a_self_signed_certificate(serve, tmp_path):
    certfile, keyfile = self_signed(tmp_path)
    server = serve("--workers", "1", "--host", "localhost", "--certfile", str(certfile), "--keyfile", str(keyfile))
    server.wait_for(f"ready at https://localhost:{server.port}")
    context = ssl.create_default_context(cafile=str(certfile))
    status, body = get(f"https://localhost:{server.port}/fhir/metadata", context=context)
    assert status == 200 and body["resourceType"] == "CapabilityStatement"
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):  # not trusted: refused
        get(f"https://localhost:{server.port}/health", context=ssl.create_default_context())


def write_jwks(folder: Path) -> Path:
    path = folder / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "EC", "crv": "P-384", "x": "x", "y": "y", "kid": "k"}]}))
    return path


@pytest.mark.parametrize("args, message", [
    (["--jti-store", "memcached://localhost"], "--jti-store memcached://...: unknown store"),
    (["--jti-store", "sqlite:////proc/no/such/folder/jti.sqlite"], "--jti-store: cannot use sqlite:////proc/no"),
    (["--trust", "https://ehr.example.org=/no/such/jwks.json"], "cannot read the JWKS file /no/such/jwks.json"),
    (["--trust", "https://ehr.example.org=http://ehr.example.org/jwks"], "must use https"),
    (["--bundles", "{empty}"], "no Bundle to serve"),
    (["--certfile", "{cert}"], "TLS needs both --certfile and --keyfile"),
    (["--workers", "0"], "--workers: must be 1 or more"),
], ids=["jti-scheme", "jti-unusable", "jwks-missing", "jwks-http", "empty-bundles", "tls-half", "workers"])
def test_a_configuration_that_cannot_work_is_refused_with_one_line(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    args = [a.format(empty=tmp_path / "empty", cert=tmp_path / "cert.pem") for a in args]
    run = subprocess.run([sys.executable, "-m", "fhir_ire.cli", "serve", "--port", str(free_port()), *args],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("fhir-ire serve: error: "), run.stderr
    assert message in run.stderr


def test_a_malformed_plandefinition_is_one_line(tmp_path):
    bundle = json.loads((ROOT / "bundles" / "03-coverage.json").read_text())
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "PlanDefinition")
    plan["action"] = "not a list of actions"
    (tmp_path / "03-coverage.json").write_text(json.dumps(bundle))
    run = subprocess.run([sys.executable, "-m", "fhir_ire.cli", "serve", "--bundles", str(tmp_path), "--port",
                          str(free_port())], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 1
    errors = [x for x in run.stderr.splitlines() if "error" in x.lower()]
    assert len(errors) == 1 and errors[0].startswith("fhir-ire serve: error: ") and "Traceback" not in run.stderr
