"""CDS Hooks service calls answered before Flask (web/direct.py DirectHook, web/cds_call.py): the answer is Flask's
answer, byte for byte (status, headers, body), with the same audit record, for every recorded request of
tests/crd/fixtures and every kind of refusal; Flask's view is never called; the call holds a permit and the time
budget; requests Flask would answer otherwise still reach it."""

import json
import logging
import re
import threading
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.test import EnvironBuilder, run_wsgi_app

from fhir_ire import budget
from fhir_ire.app import create_app
from fhir_ire.crd import hooks
from fhir_ire.store import load_bundles
from fhir_ire.web import cds_call, encoding
from fhir_ire.web.direct import DirectHook

from ..conftest import ROOT

BUNDLES = ROOT / "bundles"
FIXTURES = sorted(p for p in (ROOT / "tests" / "crd" / "fixtures").glob("*.json") if "schema" not in p.name)
ISS = "https://ehr.example.org"
# what is new on every call: card uuids, coverage-assertion ids (the request id header is set by the test)
FRESH = [(re.compile(rb'"uuid":"[0-9a-f-]{36}"'), rb'"uuid":"-"'),
         (re.compile(rb'("url":"coverage-assertion-id","valueString":")[0-9a-f]{32}"'), rb'\1-"')]


def masked(body: bytes) -> bytes:
    for pattern, replacement in FRESH:
        body = pattern.sub(replacement, body)
    return body


@pytest.fixture(scope="module")
def index():
    return load_bundles(BUNDLES)


@pytest.fixture(scope="module")
def key():
    return ec.generate_private_key(ec.SECP384R1())


def make_app(index, tmp_path: Path, **config):
    return create_app({"INDEX": index, "BUNDLES": str(BUNDLES), "THREADS": 2,
                       "AUDIT_STORE": f"sqlite:///{tmp_path / 'audit.sqlite'}", **config})


@pytest.fixture(scope="module")
def app(index, tmp_path_factory):
    return make_app(index, tmp_path_factory.mktemp("audit"))


@pytest.fixture(scope="module")
def trusting_app(index, key, tmp_path_factory):
    folder = tmp_path_factory.mktemp("jwks")
    jwk = json.loads(jwt.algorithms.get_default_algorithms()["ES384"].to_jwk(key.public_key()))
    (folder / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "ES384", "use": "sig"}]}))
    return make_app(index, folder, TRUST={ISS: str(folder / "jwks.json")},
                    JTI_STORE=f"sqlite:///{folder / 'jti.sqlite'}")


def hook_of(app) -> DirectHook:
    wsgi = app.wsgi_app
    while not isinstance(wsgi, DirectHook):  # AccessLog(Kept(Admission(DirectHook(Direct(Flask)))))
        wsgi = wsgi.app
    return wsgi


def environ(body: bytes, path: str = "/cds-services/order-sign-crd", **given) -> dict:
    env = EnvironBuilder(path=path, method="POST", data=body, content_type="application/json",
                         headers={"X-Request-ID": "same"}).get_environ()
    return {**env, **given}


def flask_refused(env, start_response):
    raise AssertionError(f"Flask answered {env['REQUEST_METHOD']} {env['PATH_INFO']}")


def answers(app, make_env) -> tuple[tuple, tuple]:
    """(status, headers, masked body, audit record) of one request answered before Flask (Flask refuses to answer
    it), then by Flask (the middleware passes it on); make_env() gives a fresh environ each time."""
    hook = hook_of(app)
    audit = app.extensions["fhir_ire.audit"]
    got = []
    for direct in (True, False):
        before = len(audit.entries("calls"))
        saved = hook.app
        if direct:
            hook.app = flask_refused
        else:
            hook.route = lambda env: None
        try:
            body, status, headers = run_wsgi_app(app.wsgi_app, make_env())
            body = masked(b"".join(body))
        finally:
            hook.app = saved
            hook.__dict__.pop("route", None)
        records = audit.entries("calls")[before:]
        kept = [{k: v for k, v in r.items() if k not in ("id", "at")} for r in records]
        for r in kept:
            r["response"] = json.loads(masked(json.dumps(r["response"], separators=(",", ":")).encode()))
        got.append((status, list(headers.items()), body, kept))
    return got[0], got[1]


def fixture_body(path: Path) -> tuple[bytes, str]:
    """The recorded request and the path of the service for its hook."""
    raw = path.read_bytes()
    return raw, f"/cds-services/{json.loads(raw)['hook']}-crd"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_every_recorded_request_is_flasks_answer_byte_for_byte(app, path):
    direct, flask = answers(app, lambda: environ(*fixture_body(path)))
    assert direct == flask
    assert [(k, v) for k, v in direct[1] if k != "Content-Length"] == [("Content-Type", "application/json"),
                                                                        ("X-Request-ID", "same")]
    assert len(direct[3]) == 1 and direct[3][0]["status"] == int(direct[0][:3])


def fixture(name: str) -> dict:
    return json.loads((ROOT / "tests" / "crd" / "fixtures" / f"{name}.json").read_text())


def with_payor(body: dict, payor) -> dict:
    body = json.loads(json.dumps(body))
    body["prefetch"]["coverage"]["entry"][0]["resource"]["payor"] = payor
    return body


def big_number(body: dict) -> dict:
    body = json.loads(json.dumps(body))  # an integer beyond 64 bits, echoed in the order's update (orjson refuses)
    body["context"]["draftOrders"]["entry"][0]["resource"]["quantityQuantity"] = {"value": 10 ** 30}
    return body


SIGN = fixture("order-sign-not-covered")
BAD = {  # name: (body, status)
    "not-json": (b"{not json", 400),
    "not-utf8": (b'{"hook": "order-sign\xff"}', 400),
    "not-an-object": (b"[1, 2]", 400),
    "empty": (b"", 400),
    "byte-order-mark": (b"\xef\xbb\xbf" + json.dumps(SIGN).encode(), 400),
    "too-deep": (b"[" * 200 + b"]" * 200, 400),
    "nan": (b'{"hook": NaN}', 400),
    "long-number": (b'{"hook": "order-sign", "n": 1' + b"0" * 100 + b"}", 400),
    "lone-surrogate": (b'{"hook": "order-sign", "x": "\\ud800"}', 400),
    "wrong-hook": (json.dumps(fixture("order-select-medicare-ffs")).encode(), 400),
    "schema-no-instance": (json.dumps({k: v for k, v in SIGN.items() if k != "hookInstance"}).encode(), 400),
    "schema-bad-context": (json.dumps({**SIGN, "context": "x"}).encode(), 400),
    "malformed-fhir": (json.dumps(with_payor(SIGN, {"reference": "Organization/x"})).encode(), 400),
    "payor-not-objects": (json.dumps(with_payor(SIGN, ["x", 1])).encode(), 400),
    "too-many-orders": (json.dumps({**SIGN, "context": {**SIGN["context"], "draftOrders": {
        "resourceType": "Bundle", "type": "collection",
        "entry": SIGN["context"]["draftOrders"]["entry"] * 60}}}).encode(), 422),
    "big-integer": (json.dumps(big_number(SIGN)).encode(), 200),
    "at-the-size-limit": (json.dumps(SIGN).encode().ljust(2 * 1024 * 1024), 200),
}


@pytest.mark.parametrize("name", BAD)
def test_a_refused_call_is_flasks_answer_byte_for_byte(app, name):
    """Bad input refused (400, 422 over the orders limit) as Flask refuses it; at the limits, an answer."""
    body, expected = BAD[name]
    direct, flask = answers(app, lambda: environ(body, CONTENT_LENGTH=str(len(body))))
    assert direct == flask and direct[0][:3] == str(expected)
    assert direct[1][0] == ("Content-Type", "application/json")
    assert len(direct[3]) == 1 and direct[3][0]["status"] == expected


def test_links_follow_the_host_scheme_root_and_base_url(app, index, tmp_path):
    raw = json.dumps(fixture("order-sign-bundling-conflict")).encode()
    for given in ({"HTTP_HOST": "ehr.example:80"}, {"HTTP_HOST": "ehr.example:443", "wsgi.url_scheme": "https"},
                  {"HTTP_HOST": "[::1]:8080"}, {"SCRIPT_NAME": "/api"}):
        direct, flask = answers(app, lambda: environ(raw, **given))
        assert direct == flask and direct[0] == "200 OK"
    fixed = make_app(index, tmp_path, BASE_URL="https://payer.example/crd")
    direct, flask = answers(fixed, lambda: environ(raw))
    assert direct == flask and b'"url":"https://payer.example/crd/ui/sources/' in direct[2]


def token(key, aud="http://localhost/cds-services/order-sign-crd", **claims) -> str:
    now = int(time.time())
    body = {"iss": ISS, "aud": aud, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex, **claims}
    return jwt.encode(body, key, algorithm="ES384", headers={"kid": "k1", "typ": "JWT"})


@pytest.mark.parametrize("make, status", [
    (lambda k: None, "401"), (lambda k: "not a token", "401"), (lambda k: token(k), "200"),
    (lambda k: token(k, aud="http://localhost/cds-services/order-select-crd"), "401"),
    (lambda k: token(k, iss="https://other.example"), "401"),
    (lambda k: token(ec.generate_private_key(ec.SECP384R1())), "401"),
], ids=["missing", "malformed", "good", "other-audience", "untrusted-issuer", "wrong-key"])
def test_jwt_checks_give_flasks_answer(trusting_app, key, make, status, caplog):
    raw = json.dumps(SIGN).encode()

    def make_env():  # a new token each time: a token is used once (jti)
        tok = make(key)
        return environ(raw, **({"HTTP_AUTHORIZATION": f"Bearer {tok}"} if tok else {}))

    with caplog.at_level(logging.INFO, logger="fhir_ire.cds"):
        direct, flask = answers(trusting_app, make_env)
    assert direct == flask and direct[0][:3] == status
    if status == "200":
        assert direct[3][0]["client"] == ISS
    else:
        assert direct[3] == [] and b'"code":"login"' in direct[2]
        rejected = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected")]
        assert len(rejected) == 2 and rejected[0] == rejected[1]


def test_a_token_for_the_request_url_is_accepted_under_any_host(trusting_app, key):
    raw = json.dumps(SIGN).encode()
    aud = "https://ehr-facing.example/api/cds-services/order-sign-crd"
    direct, flask = answers(trusting_app, lambda: environ(raw, HTTP_HOST="ehr-facing.example:443", SCRIPT_NAME="/api",
                                                          HTTP_AUTHORIZATION=f"Bearer {token(key, aud=aud)}",
                                                          **{"wsgi.url_scheme": "https"}))
    assert direct == flask and direct[0] == "200 OK"


def test_an_audit_store_that_cannot_be_written_is_flasks_503(index, tmp_path, caplog):
    (tmp_path / "audit.sqlite").mkdir()  # a folder where the database file should be
    app = make_app(index, tmp_path)
    raw = json.dumps(SIGN).encode()
    hook = hook_of(app)
    with caplog.at_level(logging.ERROR, logger="fhir_ire.cds"):
        body, status, headers = run_wsgi_app(app.wsgi_app, environ(raw))
        got = (status, b"".join(body), headers)
        hook.route = lambda env: None
        body, status, headers = run_wsgi_app(app.wsgi_app, environ(raw))
    assert got == (status, b"".join(body), headers)
    assert status == "503 SERVICE UNAVAILABLE" and b"audit store" in got[1]
    assert [r.getMessage() for r in caplog.records if "not answered" in r.getMessage()] == [
        "CDS Hooks order-sign-crd call not answered: audit store (sqlite) failed: OperationalError: unable to open "
        "database file"] * 2


def test_an_unexpected_error_is_the_guards_500_and_logged(app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("broken engine")

    monkeypatch.setattr(cds_call, "evaluate", broken)
    with caplog.at_level(logging.ERROR, logger="fhir_ire.web"):
        direct, flask = answers(app, lambda: environ(json.dumps(SIGN).encode()))
    assert direct == flask and direct[0] == "500 INTERNAL SERVER ERROR" and direct[3] == []
    assert [r.getMessage() for r in caplog.records] == ["unexpected error on POST /cds-services/order-sign-crd"] * 2


def test_error_bodies_are_the_bytes_of_flasks_jsonify(app):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login",
                                                              "details": {"text": "unauthorized: alg 'é\u2028'"}}]}
    with app.app_context():
        assert encoding.flask_json(outcome) == app.json.response(outcome).get_data()


def test_a_call_answered_before_flask_holds_a_permit_and_the_time_budget(index, tmp_path, monkeypatch):
    app = make_app(index, tmp_path, THREADS=1, LIMITS={"time_budget": 30})
    other, seen = [], []
    evaluate = hooks.evaluate

    def probe(*args):
        """While it works, a request through Flask waits: the worker's one permit is this call's."""
        waiting = threading.Thread(target=lambda: other.append(run_wsgi_app(
            app.wsgi_app, EnvironBuilder(path="/health/live").get_environ())[1]))
        waiting.start()
        waiting.join(0.5)
        seen.append((waiting.is_alive(), 0 < budget.remaining(1000) <= 30))
        other.append(waiting)
        return evaluate(*args)

    monkeypatch.setattr(cds_call, "evaluate", probe)
    hook = hook_of(app)
    flask = hook.app
    hook.app = lambda env, start: (flask_refused if env["PATH_INFO"].startswith("/cds-services") else flask)(env, start)
    assert run_wsgi_app(app.wsgi_app, environ(json.dumps(SIGN).encode()))[1] == "200 OK"
    other[0].join(10)
    assert seen == [(True, True)] and other[1] == "200 OK" and budget.remaining(1000) == 1000


@pytest.mark.parametrize("path, given", [
    ("/cds-services/order-sign-crd", {"HTTP_ORIGIN": "https://app.example"}),
    ("/cds-services/order-sign-crd", {"REQUEST_METHOD": "PUT"}),
    ("/cds-services/order-sign-crd", {"REQUEST_METHOD": "GET"}),
    ("/cds-services/order-sign-crd", {"REQUEST_METHOD": "OPTIONS"}),
    ("/cds-services/order-sign-crd", {"QUERY_STRING": "x=1"}),
    ("/cds-services/order-sign-crd", {"HTTP_TRANSFER_ENCODING": "chunked"}),
    ("/cds-services/order-sign-crd", {"CONTENT_LENGTH": ""}),
    ("/cds-services/order-sign-crd", {"CONTENT_LENGTH": "+5"}),
    ("/cds-services/order-sign-crd", {"CONTENT_LENGTH": str(2 * 1024 * 1024 + 1)}),
    ("/cds-services/order-sign-crd", {"SCRIPT_NAME": "/\u00e9"}),
    ("/cds-services/order-sign-crd/", {}),
    ("/cds-services/no-such-service", {}),
    ("/cds-services/order-sign-crd/feedback", {}),
    ("/cds-services", {}),
    ("/cds-services/order-sign-cr\u00e9", {}),
], ids=["origin", "put", "get", "options", "query", "chunked", "no-length", "signed-length", "too-long",
        "root-not-ascii", "trailing-slash", "unknown-service", "feedback", "discovery", "not-ascii"])
def test_requests_flask_answers_otherwise_still_reach_it(app, path, given):
    env = {**environ(json.dumps(SIGN).encode(), path), **given}
    assert hook_of(app).route(env) is None


def test_flask_checking_the_host_gets_the_call(app):
    app.config["TRUSTED_HOSTS"] = ["ehr.example"]
    try:
        assert hook_of(app).route(environ(json.dumps(SIGN).encode())) is None
    finally:
        app.config["TRUSTED_HOSTS"] = None


def test_a_body_shorter_than_declared_is_left_to_flask(app):
    env = environ(b'{"hook": "order-sign"}', CONTENT_LENGTH="100")
    hook = hook_of(app)
    assert hook.route(env) == "order-sign-crd"
    body, status, _ = run_wsgi_app(app.wsgi_app, env)
    assert status == "400 BAD REQUEST" and b"OperationOutcome" in b"".join(body)
