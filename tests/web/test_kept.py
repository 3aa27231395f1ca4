"""Reads and searches answered before Flask (web/kept.py): the kept answer is Flask's answer, byte for byte, for
every resource of the committed bundles and every search by url; requests that Flask would answer otherwise still
reach it; every request keeps its request id and access line."""

import logging

import pytest

from fhir_ire.app import create_app
from fhir_ire.store import load_bundles
from fhir_ire.web.kept import Kept

from ..conftest import ROOT

BUNDLES = ROOT / "bundles"


@pytest.fixture(scope="module")
def index():
    return load_bundles(BUNDLES)


def app_of(index, **config):
    return create_app({"INDEX": index, "BUNDLES": str(BUNDLES), **config})


def kept_reads(app) -> Kept:
    return app.wsgi_app.app


def flask_must_not_answer(app):
    def refuse(environ, start_response):
        raise AssertionError(f"Flask answered {environ['PATH_INFO']}, a read already kept")
    kept_reads(app).app = refuse


def answer(response) -> tuple:
    return response.status, [(k, v) for k, v in response.headers.items() if k != "X-Request-ID"], response.data


def reads(index) -> list[str]:
    return [f"/fhir/{t}/{r['id']}" for t in index.types() for r in index.all(t)]


def searches(index) -> list[str]:
    by_url = [f"/fhir/{t}?url={r['url']}" for t in index.types() for r in index.all(t) if r.get("url")]
    return by_url + ["/fhir/ValueSet", "/fhir/ValueSet?_count=1", "/fhir/CodeSystem?_summary=count"]


@pytest.mark.parametrize("paths", [reads, searches], ids=["every read", "every search by url"])
def test_a_kept_answer_is_flasks_answer(index, paths):
    app = app_of(index)
    first = {p: answer(app.test_client().get(p)) for p in paths(index)}
    assert all(status == "200 OK" for status, _, _ in first.values())
    flask_must_not_answer(app)
    for p in paths(index):
        assert answer(app.test_client().get(p)) == first[p], p


def test_a_search_from_another_host_is_worked_out_for_it(index):
    app = app_of(index)
    path = "/fhir/ValueSet?_count=1"
    one = app.test_client().get(path, headers={"Host": "one.example"}).get_json(force=True)
    two = app.test_client().get(path, headers={"Host": "two.example"}).get_json(force=True)
    assert one["entry"][0]["fullUrl"].startswith("http://one.example/fhir/")
    assert two["entry"][0]["fullUrl"].startswith("http://two.example/fhir/")
    assert app.test_client().get(path, headers={"Host": "one.example"}).get_json(force=True) == one


def test_a_refused_search_is_never_kept(index):
    app = app_of(index)
    for _ in range(2):
        assert app.test_client().get("/fhir/ValueSet?_count=x").status_code == 400
        assert app.test_client().get("/fhir/ValueSet?_format=xml").status_code == 406


def test_a_read_not_yet_kept_goes_to_flask(index):
    app = app_of(index)
    flask_must_not_answer(app)
    with pytest.raises(AssertionError, match="Flask answered"):
        app.test_client().get("/fhir/CodeSystem/cpt")


@pytest.mark.parametrize("request_args, status", [
    ({"headers": {"Accept": "application/fhir+xml"}}, 406),
    ({"query_string": "_format=xml"}, 406),
    ({"headers": {"Origin": "https://app.example"}}, 200),
    ({"query_string": "_summary=false"}, 200),
    ({"data": b"{}", "content_type": "application/json"}, 200),
], ids=["accept-xml", "format-xml", "origin", "query", "body"])
def test_requests_flask_answers_otherwise_still_reach_it(index, request_args, status):
    app = app_of(index, CORS_ORIGIN=["https://app.example"])
    client = app.test_client()
    assert client.get("/fhir/CodeSystem/cpt").status_code == 200  # kept now
    reached = []
    flask = kept_reads(app).app
    kept_reads(app).app = lambda environ, start: reached.append(environ["PATH_INFO"]) or flask(environ, start)
    response = client.get("/fhir/CodeSystem/cpt", **request_args)
    assert reached == ["/fhir/CodeSystem/cpt"] and response.status_code == status
    if "headers" in request_args and "Origin" in request_args["headers"]:
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_other_paths_and_methods_reach_flask(index):
    app = app_of(index)
    client = app.test_client()
    client.get("/fhir/CodeSystem/cpt")
    assert client.post("/fhir/CodeSystem/cpt").status_code == 405
    assert client.get("/fhir/CodeSystem/cpt/").status_code == 404
    assert client.get("/fhir/CodeSystem/none").status_code == 404


def test_a_kept_read_has_its_request_id_and_access_line(index, caplog):
    app = app_of(index)
    client = app.test_client()
    client.get("/fhir/CodeSystem/cpt")
    flask_must_not_answer(app)
    with caplog.at_level(logging.INFO, logger="fhir_ire.access"):
        response = client.get("/fhir/CodeSystem/cpt", headers={"X-Request-ID": "kept-1"})
    assert response.headers["X-Request-ID"] == "kept-1"
    lines = [r for r in caplog.records if r.name == "fhir_ire.access"]
    assert [(r.request_id, r.path, r.status) for r in lines] == [("kept-1", "/fhir/CodeSystem/cpt", 200)]
