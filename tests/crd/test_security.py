"""CDS Hooks JWT checks with keys generated here: accepted algorithms, issuer, audience, expiry, jti replay."""

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fhir_ire import create_app

from .conftest import ROOT, coverage, request, service_request

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
    assert r.status_code == 401 and message in r.get_json()["error"]


def test_wrong_key_for_the_kid_is_rejected(client, keys):
    forged = jwt.encode({"iss": ISS, "aud": URL, "exp": int(time.time()) + 60, "iat": int(time.time()),
                         "jti": uuid.uuid4().hex}, keypair("ES384"), algorithm="ES384", headers={"kid": "ES384"})
    assert post(client, forged).status_code == 401


def test_replayed_jti_is_rejected(client, keys):
    tok = token(keys)
    assert post(client, tok).status_code == 200
    r = post(client, tok)
    assert r.status_code == 401 and "replay" in r.get_json()["error"]


def test_discovery_needs_a_token_with_its_own_audience(client, keys):
    assert client.get("/cds-services").status_code == 401
    ok = token(keys, aud="http://localhost/cds-services")
    assert client.get("/cds-services", headers={"Authorization": f"Bearer {ok}"}).status_code == 200
