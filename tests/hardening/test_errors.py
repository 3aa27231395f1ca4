"""Every error from any route is JSON (OperationOutcome under /fhir and /cds-services, {"error": ...} elsewhere), never an HTML page;
request data reaches log lines escaped."""

import logging

import pytest

from tests.hardening.conftest import error_message
from flask import Flask

from fhir_ire.app import mount
from fhir_ire.web.guard import loggable


@pytest.mark.parametrize("method, path, status", [
    ("PUT", "/cds-services", 405), ("GET", "/cds-services/unknown", 405), ("POST", "/cds-services/unknown", 404),
    ("DELETE", "/cds-services/order-sign-crd/feedback", 405), ("GET", "/nowhere", 404), ("POST", "/health", 405),
    ("GET", "/cds-services/a/b/c", 404),
], ids=lambda v: str(v))
def test_errors_outside_fhir_are_json(client, method, path, status):
    r = client.open(path, method=method)
    assert r.status_code == status and r.mimetype == "application/json" and error_message(r)
    if status == 405:
        assert "GET" in r.headers["Allow"] or "POST" in r.headers["Allow"]


@pytest.mark.parametrize("method, path, status", [
    ("DELETE", "/fhir/CodeSystem/cpt", 405), ("GET", "/fhir/a/b/c/d", 404), ("PUT", "/fhir/metadata", 405),
    ("GET", "/fhir/nothing", 404)], ids=lambda v: str(v))
def test_errors_under_fhir_are_operation_outcomes(client, method, path, status):
    r = client.open(path, method=method)
    assert r.status_code == status and r.mimetype == "application/fhir+json"
    assert r.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", ["/cds-services", "/cds-services/order-sign-crd", "/fhir/metadata", "/health"])
def test_options_answers_json(client, path):
    r = client.options(path)
    assert r.status_code == 200 and r.mimetype == "application/json" and "GET" in r.json["allow"] + ["GET"]
    assert set(r.json["allow"]) == {m.strip() for m in r.headers["Allow"].split(",")}


def test_an_unexpected_error_in_our_routes_is_json_and_logged_escaped(index, caplog):
    host = Flask("host")
    mount(host, {"INDEX": index}, prefix="/ire")

    @host.post("/ire/cds-services/boom/<part>")
    def boom(part):
        raise RuntimeError("bug")

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="fhir_ire"):
        r = host.test_client().post("/ire/cds-services/boom/x%0A2099-01-01 ERROR forged")
    assert r.status_code == 500 and r.mimetype == "application/json" and "Internal error" in error_message(r)
    assert [rec.getMessage().count("\n") for rec in caplog.records] == [0]
    assert "x\\n2099-01-01" in caplog.records[0].getMessage()


def test_a_host_apps_own_routes_keep_its_error_pages(index):
    host = Flask("host")
    mount(host, {"INDEX": index}, prefix="/ire")
    r = host.test_client().get("/elsewhere")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert host.test_client().get("/ire/cds-services/x/y/z").mimetype == "application/json"


@pytest.mark.parametrize("value, expected", [
    ("a\nb\r\nc", "a\\nb\\r\\nc"), ("tab\there", "tab\\there"), ("ls\u2028ps\u2029", "ls\\u2028ps\\u2029"),
    ("esc\x1b[31m", "esc\\x1b[31m"), (["x\ny"], "['x\\ny']")])
def test_loggable_escapes_line_breaks_and_controls(value, expected):
    assert loggable(value) == expected


def test_loggable_bounds_the_length():
    assert loggable("x" * 1000, limit=10) == "xxxxxxxxxx...(+990 chars)"
