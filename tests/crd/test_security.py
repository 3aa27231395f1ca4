"""CDS Hooks JWT checks with keys generated here: accepted algorithms, issuer, audience, expiry, jti replay."""

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fhir_ire import create_app

from .conftest import ROOT, coverage, error_text, request, service_request

ISS = "https://ehr.example.org"
URL = "http://localhost/cds-services/order-sign-crd"


def keypair(alg):
    if alg == "RS384":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP384R1() if alg == "ES384" else ec.SECP256R1())


@pytest.fixture(scope="module")
def keys():
    return {alg: keypair(alg) for alg in ("ES384", "RS384", "ES256")}


@pytest.fixture(scope="module")
def client(keys, tmp_path_factory):
    folder = tmp_path_factory.mktemp("jwks")
    jwks = {"keys": []}
    for alg, key in keys.items():
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
        jwks["keys"].append({**jwk, "kid": alg, "alg": alg, "use": "sig"})
    (folder / "jwks.json").write_text(json.dumps(jwks))
    app = create_app({"BUNDLES": str(ROOT / "bundles"), "TRUST": {ISS: str(folder / "jwks.json")},
                      "JTI_STORE": f"sqlite:///{folder / 'jti.sqlite'}"})
    return app.test_client()


def token(keys, alg="ES384", **claims):
    now = int(time.time())
    body = {"iss": ISS, "aud": URL, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    key = keys.get(alg) if alg in keys else "not-a-real-secret-but-long-enough-0123456789"
    return jwt.encode(body, key, algorithm=alg, headers={"kid": alg, "typ": "JWT"})


def post(client, tok):
    body = request(orders=[service_request("sr-1", "0600T")], cov=coverage("iCare"))
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return client.post("/cds-services/order-sign-crd", json=body, headers=headers)


@pytest.mark.parametrize("alg", ["ES384", "RS384", "ES256"])
def test_signed_with_a_trusted_key_is_accepted(client, keys, alg):
    assert post(client, token(keys, alg)).status_code == 200


@pytest.mark.parametrize("make, message", [
    (lambda k: None, "missing bearer token"),
    (lambda k: token(k, alg="HS256"), "not accepted"),
    (lambda k: jwt.encode({"iss": ISS, "aud": URL, "exp": int(time.time()) + 60, "iat": int(time.time()),
                           "jti": "x"}, None, algorithm="none"), "not accepted"),
    (lambda k: token(k, iss="https://evil.example.org"), "issuer is not trusted"),
    (lambda k: token(k, aud="http://localhost/cds-services/other"), "audience"),
    (lambda k: token(k, exp=int(time.time()) - 600), "expired"),
    (lambda k: token(k, jti=None), "invalid token"),
], ids=["no-token", "hmac", "alg-none", "untrusted-issuer", "wrong-audience", "expired", "no-jti"])
def test_bad_tokens_are_401_with_json_error(client, keys, make, message):
    r = post(client, make(keys))
    assert r.status_code == 401 and message in error_text(r)


def test_wrong_key_for_the_kid_is_rejected(client, keys):
    forged = jwt.encode({"iss": ISS, "aud": URL, "exp": int(time.time()) + 60, "iat": int(time.time()),
                         "jti": uuid.uuid4().hex}, keypair("ES384"), algorithm="ES384", headers={"kid": "ES384"})
    assert post(client, forged).status_code == 401


def test_replayed_jti_is_rejected(client, keys):
    tok = token(keys)
    assert post(client, tok).status_code == 200
    r = post(client, tok)
    assert r.status_code == 401 and "replay" in error_text(r)


def test_discovery_needs_a_token_with_its_own_audience(client, keys):
    assert client.get("/cds-services").status_code == 401
    ok = token(keys, aud="http://localhost/cds-services")
    assert client.get("/cds-services", headers={"Authorization": f"Bearer {ok}"}).status_code == 200


def test_token_whose_alg_differs_from_its_key_is_rejected(client, keys):
    mixed = jwt.encode({"iss": ISS, "aud": URL, "exp": int(time.time()) + 60, "iat": int(time.time()),
                        "jti": uuid.uuid4().hex}, keys["ES256"], algorithm="ES256", headers={"kid": "ES384"})
    r = post(client, mixed)
    assert r.status_code == 401 and "is for ES384" in error_text(r)


def test_rotated_issuer_key_is_found_by_rereading_the_jwks(tmp_path, monkeypatch):
    from fhir_ire.crd import security
    old, new = keypair("ES384"), keypair("ES384")

    def write(key, kid):
        jwk = json.loads(jwt.algorithms.get_default_algorithms()["ES384"].to_jwk(key.public_key()))
        (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": kid, "alg": "ES384"}]}))

    write(old, "k1")
    checker = security.JwtChecker({ISS: str(tmp_path / "jwks.json")}, f"sqlite:///{tmp_path / 'jti.sqlite'}")
    claims = lambda: {"iss": ISS, "aud": URL, "exp": int(time.time()) + 60, "iat": int(time.time()),  # noqa: E731
                      "jti": uuid.uuid4().hex}
    checker.check("Bearer " + jwt.encode(claims(), old, algorithm="ES384", headers={"kid": "k1"}), URL)
    write(new, "k2")
    rotated = "Bearer " + jwt.encode(claims(), new, algorithm="ES384", headers={"kid": "k2"})
    with pytest.raises(security.AuthError, match="kid"):
        checker.check(rotated, URL)  # re-read at most once a minute
    monkeypatch.setattr(security, "RELOAD_AFTER", -1)
    assert checker.check(rotated, URL)["iss"] == ISS


def _first_use(path, jti, exp, out):
    from fhir_ire.crd.security import JtiStore
    out.put(JtiStore(f"sqlite:///{path}").first_use(jti, exp))


def test_jti_store_lets_one_of_several_processes_win(tmp_path):
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_first_use, args=(str(tmp_path / "jti.sqlite"), "same-jti", int(time.time()) + 60,
                                                   out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=20) for _ in procs]
    for p in procs:
        p.join(timeout=20)
    assert sorted(results) == [False, False, False, True]


def test_audience_is_the_public_base_url_behind_a_proxy(keys, tmp_path):
    jwk = json.loads(jwt.algorithms.get_default_algorithms()["ES384"].to_jwk(keys["ES384"].public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "ES384"}]}))
    app = create_app({"BUNDLES": str(ROOT / "bundles"), "TRUST": {ISS: str(tmp_path / "jwks.json")},
                      "BASE_URL": "https://cds.example.org", "JTI_STORE": f"sqlite:///{tmp_path / 'jti.sqlite'}"})
    client = app.test_client()
    assert post(client, token(keys)).status_code == 401  # aud = the internal URL
    public = token(keys, aud="https://cds.example.org/cds-services/order-sign-crd")
    assert post(client, public).status_code == 200


@pytest.fixture
def redis_url(tmp_path):
    import socket
    import subprocess
    from tests.debian import require
    server = require("redis-server", "redis-server")
    pytest.importorskip("redis")
    from .test_serve_cds import free_port
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--save", "", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:  # until it accepts connections
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=5)


def test_redis_jti_store_refuses_a_replay(redis_url):
    from fhir_ire.crd.security import JtiStore
    first, second = JtiStore(redis_url), JtiStore(redis_url)  # two workers
    assert first.first_use("jti-r", int(time.time()) + 60) is True
    assert second.first_use("jti-r", int(time.time()) + 60) is False


def test_redis_store_without_the_redis_package_is_a_clear_start_up_error(monkeypatch):
    import sys
    from fhir_ire.crd.security import JtiStore, JtiStoreError
    monkeypatch.setitem(sys.modules, "redis", None)  # as if the optional extra were not installed
    with pytest.raises(JtiStoreError, match=r"fhir-ire\[redis\]"):
        JtiStore("redis://127.0.0.1:6379/0")
