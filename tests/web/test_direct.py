"""Terminology operations by plain GET answered before Flask (web/direct.py): the answer is Flask's answer, byte for
byte (status, headers, body), for good requests, bad parameters, unknown codes and systems and every operation; the
request holds a permit and the time budget while it works; requests Flask would answer otherwise still reach it."""

import logging
import re
import threading
from urllib.parse import quote

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from fhir_ire import budget
from fhir_ire.app import create_app
from fhir_ire.store import load_bundles
from fhir_ire.web import fhir
from fhir_ire.web.direct import Direct

from ..conftest import ROOT

BUNDLES = ROOT / "bundles"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
FRESH = re.compile(rb'"(identifier|timestamp)":"(urn:uuid:[0-9a-f-]{36}|[0-9T:.Z-]{20,30})"')


@pytest.fixture(scope="module")
def index():
    return load_bundles(BUNDLES)


@pytest.fixture(scope="module")
def app(index):
    return create_app({"INDEX": index, "BUNDLES": str(BUNDLES), "THREADS": 2})


def direct_of(app) -> Direct:
    wsgi = app.wsgi_app
    while not isinstance(wsgi, Direct):  # AccessLog(Kept(Admission(Direct(Flask))))
        wsgi = wsgi.app
    return wsgi


def q(value: str) -> str:
    return quote(value, safe="")


def requests(index) -> list[str]:
    """Every operation we route, by GET: good and bad parameters, unknown codes and systems, every resource."""
    paths = []
    for cm in index.all("ConceptMap"):
        for group in cm["group"]:
            for el in group["element"]:
                paths.append(f"ConceptMap/$translate?url={q(cm['url'])}&system={q(group['source'])}&code={el['code']}")
                paths.append(f"ConceptMap/{cm['id']}/$translate?coding={q(group['source'] + '|' + el['code'])}")
                for t in el.get("target", []):
                    paths.append(f"ConceptMap/$translate?url={q(cm['url'])}&targetCode={q(t['code'])}"
                                 f"&targetSystem={q(group['target'])}")
    for cs in index.all("CodeSystem"):
        for concept in cs.get("concept", [])[:3]:
            paths.append(f"CodeSystem/$lookup?system={q(cs['url'])}&code={q(concept['code'])}&property=*")
            paths.append(f"CodeSystem/{cs['id']}/$lookup?code={q(concept['code'])}")
            paths.append(f"CodeSystem/$validate-code?url={q(cs['url'])}&code={q(concept['code'])}&display=wrong")
        paths.append(f"CodeSystem/{cs['id']}/$lookup?code=no-such-code")
    for vs in index.all("ValueSet"):
        paths += [f"ValueSet/$expand?url={q(vs['url'])}", f"ValueSet/{vs['id']}/$expand?count=1&offset=1",
                  f"ValueSet/$validate-code?url={q(vs['url'])}&system={CPT}&code=0600T",
                  f"ValueSet/$validate-code?url={q(vs['url'])}&coding={q(ICD + '|C25.0')}"]
    return paths + [
        f"CodeSystem/$lookup?system={ICD}&code=C25.0", f"CodeSystem/$lookup?system={ICD}&code=C25",
        f"CodeSystem/$lookup?coding={q(ICD + '|E11.9')}&displayLanguage=en",
        f"CodeSystem/$lookup?system={ICD}&code=NOPE", "CodeSystem/$lookup?system=http://unknown.example&code=1",
        "CodeSystem/$lookup", f"CodeSystem/$lookup?system={ICD}", "CodeSystem/$lookup?code=C25.0",
        f"CodeSystem/$lookup?system={ICD}&code=C25.0&coding={q(ICD + '|C25.1')}",
        f"CodeSystem/$lookup?system={ICD}&code=%ZZ", f"CodeSystem/$lookup?system={ICD}&code=%E9%80",
        f"CodeSystem/$lookup?system={ICD}&code=C25.0&displayLanguage=not+a+tag!",
        f"CodeSystem/$lookup?system={ICD}&code=C25.0&useSupplement=http://unknown.example/supplement",
        "CodeSystem/no-such-id/$lookup?code=1",
        f"CodeSystem/$subsumes?system={ICD}&codeA=C25&codeB=C25.0", f"CodeSystem/$subsumes?system={ICD}&codeA=C25",
        f"CodeSystem/$validate-code?url={ICD}&code=C25.0", f"CodeSystem/$validate-code?url={ICD}&code=C99.99.9",
        f"ValueSet/$expand?url={q(ICD + '?fhir_vs')}&filter=epilepsy&count=20",
        f"ValueSet/$expand?url={q(ICD + '?fhir_vs')}&filter=malig+pancr&count=5&offset=2",
        f"ValueSet/$expand?url={q(ICD + '?fhir_vs')}&count=1000000", f"ValueSet/$expand?url={q(ICD + '?fhir_vs')}",
        f"ValueSet/$expand?url={q(ICD + '?fhir_vs')}&count=x", "ValueSet/$expand?url=http://unknown.example/vs",
        "ValueSet/$expand", "ValueSet/no-such-id/$expand",
        f"ValueSet/$batch-validate-code?url={q(ICD + '?fhir_vs')}&code=C25.0",
        f"ConceptMap/$translate?system={CPT}&code=0600T", f"ConceptMap/$translate?system={CPT}&code=9999T",
        f"ConceptMap/$translate?system={CPT}&code=0600T&targetSystem={ICD}", "ConceptMap/$translate",
        f"ConceptMap/$translate?url=http://unknown.example/cm&system={CPT}&code=0600T",
        f"ConceptMap/$translate?system={CPT}&code=0600T&reverse=true",
        f"ConceptMap/$translate?coding={q(CPT + '|')}",
    ]


def environ(path: str, **headers) -> dict:
    return EnvironBuilder(path="/fhir/" + path.split("?")[0], query_string=path.partition("?")[2],
                          headers={"X-Request-ID": "same", **headers}).get_environ()


def call(wsgi, env: dict) -> tuple:
    """Status, headers and body; an expansion's identifier and timestamp (new on each request) made constant."""
    body, status, headers = run_wsgi_app(wsgi, env)
    return status, list(headers.items()), FRESH.sub(rb'"\1":"-"', b"".join(body))


def flask_refused(env, start_response):
    raise AssertionError(f"Flask answered {env['PATH_INFO']}?{env['QUERY_STRING']}")


def test_every_operation_by_get_is_flasks_answer_byte_for_byte(app, index):
    direct = direct_of(app)
    flask, outer = direct.app, app.wsgi_app
    paths = requests(index)
    assert len(paths) > 100
    expected = {p: call(flask, environ(p)) for p in paths}
    direct.app = flask_refused
    try:
        got = {p: call(outer, environ(p)) for p in paths}
    finally:
        direct.app = flask
    statuses = {status for status, _, _ in expected.values()}
    assert {"200 OK", "400 BAD REQUEST", "404 NOT FOUND", "422 UNPROCESSABLE ENTITY"} <= statuses
    for p in paths:
        status, headers, body = got[p]
        assert (status, [h for h in headers if h[0] != "X-Request-ID"], body) == expected[p], p
        assert ("X-Request-ID", "same") in headers


def test_an_accept_language_header_is_the_display_language(app):
    path = f"CodeSystem/$lookup?system={ICD}&code=C25.0"
    direct = direct_of(app)
    expected = call(direct.app, environ(path, **{"Accept-Language": "*; q=0"}))
    assert call(direct, environ(path, **{"Accept-Language": "*; q=0"})) == expected


@pytest.mark.parametrize("path, given, method", [
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0&_format=xml", {}, "GET"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0&%5Fformat=xml", {}, "GET"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0&_f%6Frmat=xml", {}, "GET"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0", {"HTTP_ACCEPT": "application/fhir+xml"}, "GET"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0", {"HTTP_ORIGIN": "https://app.example"}, "GET"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0", {"CONTENT_LENGTH": "2"}, "GET"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0", {"HTTP_TRANSFER_ENCODING": "chunked"}, "GET"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0", {}, "POST"),
    (f"CodeSystem/$lookup?system={ICD}&code=C25.0", {}, "HEAD"),
    ("CodeSystem/$lookup?code=\u00e9", {}, "GET"),
    ("CodeSystem/$no-such-operation?code=1", {}, "GET"),
    ("Not-a-type/x/$lookup?code=1", {}, "GET"),
    ("CodeSystem/$lookup/", {}, "GET"),
    ("CodeSystem//$lookup", {}, "GET"),
    ("CodeSystem/cpt", {}, "GET"),
    ("metadata", {}, "GET"),
], ids=["format", "format-escaped", "format-letter-escaped", "accept-xml", "origin", "body", "chunked-body", "post",
        "head", "not-ascii", "unknown-operation", "unknown-type", "trailing-slash", "empty-id", "read", "metadata"])
def test_requests_flask_answers_otherwise_still_reach_it(app, path, given, method):
    env = {**environ(path), **given, "REQUEST_METHOD": method}
    assert direct_of(app).route(env) is None


def test_a_request_answered_before_flask_holds_a_permit_and_the_time_budget(index, monkeypatch):
    app = create_app({"INDEX": index, "BUNDLES": str(BUNDLES), "THREADS": 1, "LIMITS": {"time_budget": 30}})
    other: list = []
    seen = []

    def probe(scope, params, instance=None):
        """While it works, a request through Flask waits: the worker's one permit is this request's."""
        waiting = threading.Thread(target=lambda: other.append(call(app.wsgi_app, environ("metadata"))))
        waiting.start()
        waiting.join(0.5)
        seen.append((waiting.is_alive(), 0 < budget.remaining(1000) <= 30))
        other.append(waiting)
        return {"resourceType": "Parameters"}

    monkeypatch.setitem(fhir.OPERATIONS, ("CodeSystem", "$probe"), probe)
    assert direct_of(app).route(environ("CodeSystem/$probe")) is not None
    assert call(app.wsgi_app, environ("CodeSystem/$probe"))[0] == "200 OK"
    other[0].join(10)
    assert seen == [(True, True)] and other[1][0] == "200 OK" and budget.remaining(1000) == 1000


def test_an_unexpected_error_is_flasks_500_and_logged(app, monkeypatch, caplog):
    def broken(scope, params, instance=None):
        raise RuntimeError("broken operation")

    monkeypatch.setitem(fhir.OPERATIONS, ("CodeSystem", "$broken"), broken)
    direct = direct_of(app)
    with caplog.at_level(logging.ERROR, logger="fhir_ire.fhir"):
        expected = call(direct.app, environ("CodeSystem/$broken"))
        got = call(direct, environ("CodeSystem/$broken"))
    assert got == expected and got[0] == "500 INTERNAL SERVER ERROR"
    assert [r.getMessage() for r in caplog.records] == ["unexpected error on GET /fhir/CodeSystem/$broken"] * 2


@pytest.mark.parametrize("path, status, body", [
    ("/fhir/CodeSystem/$lookup", "400 BAD REQUEST", b'"code":"invalid"'),
    ("/fhir/ValueSet", "400 BAD REQUEST", b'"code":"invalid"'),
    ("/ui/codes", "400 BAD REQUEST", b"400 Bad Request"),
], ids=["operation", "search", "page"])
def test_a_query_not_utf8_is_a_400_not_a_500(app, path, status, body):
    env = EnvironBuilder(path=path).get_environ()
    env["QUERY_STRING"] = "system=x&code=\xe9"  # the raw byte 0xE9 as WSGI passes it (latin-1)
    got = call(app.wsgi_app, env)
    assert got[0] == status and body in got[2]
