"""JWT claims of the wrong JSON type are 401 before any key is used, never a 500; header fields reach the log
escaped (a line break in `alg` or `kid` cannot forge a log line)."""

import json
import logging
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from fhir_ire import create_app
from tests.hardening.conftest import error_message, order_sign

ISS = "https://ehr.example.org"
URL = "http://localhost/cds-services/order-sign-crd"


@pytest.fixture(scope="module")
def key():
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def client(key, index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("jwks")
    jwk = json.loads(jwt.algorithms.get_default_algorithms()["ES384"].to_jwk(key.public_key()))
    (folder / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "ES384"}]}))
    return create_app({"INDEX": index, "TRUST": {ISS: str(folder / "jwks.json")},
                       "JTI_STORE": f"sqlite:///{folder / 'jti.sqlite'}"}).test_client()


def token(key, headers=None, **claims):
    """A correctly signed ES384 token with any header and claims, of any JSON type (PyJWT's encode refuses some)."""
    now = int(time.time())
    body = {"iss": ISS, "aud": URL, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex, **claims}
    header = {"alg": "ES384", "typ": "JWT", "kid": "k1", **(headers or {})}
    signing_input = b".".join(jwt.utils.base64url_encode(json.dumps(part).encode()) for part in (header, body))
    signature = jwt.algorithms.get_default_algorithms()["ES384"].sign(signing_input, key)
    return (signing_input + b"." + jwt.utils.base64url_encode(signature)).decode()


def post(client, tok):
    return client.post("/cds-services/order-sign-crd", json=order_sign(1), headers={"Authorization": f"Bearer {tok}"})


def test_a_well_formed_token_is_accepted(client, key):
    assert post(client, token(key)).status_code == 200


@pytest.mark.parametrize("claims, message", [
    ({"iss": [ISS]}, "iss claim is not a string"),
    ({"iss": {"url": ISS}}, "iss claim is not a string"),
    ({"exp": 2 ** 63}, "exp claim is not a NumericDate"),
    ({"exp": 2 ** 64 + 1}, "exp claim is not a NumericDate"),
    ({"exp": "tomorrow"}, "exp claim is not a NumericDate"),
    ({"exp": [1]}, "exp claim is not a NumericDate"),
    ({"exp": True}, "exp claim is not a NumericDate"),
    ({"iat": -5}, "iat claim is not a NumericDate"),
    ({"nbf": {"a": 1}}, "nbf claim is not a NumericDate"),
    ({"jti": 12}, "jti claim is not a string"),
    ({"jti": ["a"]}, "jti claim is not a string"),
    ({"aud": {"u": URL}}, "audience"),
    ({"aud": 5}, "audience"),
], ids=lambda v: json.dumps(v)[:30])
def test_claims_of_the_wrong_type_are_401(client, key, claims, message):
    r = post(client, token(key, **claims))
    assert r.status_code == 401 and r.mimetype == "application/json" and message in error_message(r)


@pytest.mark.parametrize("headers", [{"kid": ["k1"]}, {"kid": {"a": 1}}, {"kid": 7}])
def test_a_kid_of_the_wrong_type_is_401(client, key, headers):
    assert post(client, token(key, headers=headers)).status_code == 401


@pytest.mark.parametrize("field", ["alg", "kid"])
def test_a_line_break_in_a_header_field_cannot_forge_a_log_line(client, key, field, caplog):
    forged = "ES384\n2099-01-01 00:00:00,000 ERROR fhir_ire.cds: forged"
    tok = token(key, headers={field: forged})
    with caplog.at_level(logging.INFO, logger="fhir_ire"):
        r = post(client, tok)
    assert r.status_code == 401
    lines = [rec.getMessage() for rec in caplog.records if rec.name.startswith("fhir_ire")]
    assert lines and all("\n" not in line for line in lines)
    assert not any(line.startswith("2099") for text in lines for line in text.splitlines())
