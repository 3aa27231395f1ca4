"""The service's shared behaviour, through Flask's test client: health and readiness, request ids and the access
log, CORS, FHIR format negotiation, and the bundles folder guarded against what cannot be read."""

import json
import logging
import os

import pytest

from fhir_ire.app import create_app
from fhir_ire.errors import BundleError
from fhir_ire.store import load_bundles

from ..conftest import ROOT

BUNDLES = ROOT / "bundles"
LOOKUP = "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=C25.0"


@pytest.fixture(scope="module")
def index():
    return load_bundles(BUNDLES)


def client(index, **config):
    return create_app({"INDEX": index, "BUNDLES": str(BUNDLES), **config}).test_client()


def test_health_gives_version_build_date_and_counts(index):
    body = client(index).get("/health").get_json()
    stamp = json.loads((BUNDLES / "01-sources.json").read_text())["timestamp"]
    assert body["status"] == "ok" and body["version"].startswith("0.")
    assert body["built"] == stamp[:10]
    assert body["resources"]["PlanDefinition"] == len(index.all("PlanDefinition"))


def test_liveness_and_readiness_are_separate(tmp_path, index):
    c = client(index)
    assert c.get("/health/live").get_json() == {"status": "ok"}
    assert c.get("/health/ready").status_code == 200
    empty = create_app({"BUNDLES": str(tmp_path), "ALLOW_EMPTY": True}).test_client()
    assert empty.get("/health/live").status_code == 200
    assert empty.get("/health/ready").status_code == 503  # nothing to serve: not ready, but alive


def test_request_id_is_returned_and_logged_without_query_values(index, caplog):
    c = client(index)
    with caplog.at_level(logging.INFO, logger="fhir_ire.access"):
        given = c.get(LOOKUP, headers={"X-Request-ID": "req-42"})
        made = c.get(LOOKUP)
        forged = c.get(LOOKUP, headers={"X-Request-ID": "x 2099-01-01 ERROR <forged> " + "y" * 200})
    assert given.headers["X-Request-ID"] == "req-42"
    assert len(made.headers["X-Request-ID"]) == 32
    assert "forged" not in forged.headers["X-Request-ID"] and len(forged.headers["X-Request-ID"]) == 32
    lines = [r for r in caplog.records if r.name == "fhir_ire.access"]
    assert [r.request_id for r in lines] == ["req-42", made.headers["X-Request-ID"], forged.headers["X-Request-ID"]]
    first = lines[0]
    assert (first.method, first.path, first.status) == ("GET", "/fhir/CodeSystem/$lookup?system&code", 200)
    assert first.duration_ms >= 0
    assert all("C25.0" not in r.getMessage() and "icd-10-cm" not in r.getMessage() for r in lines)


def test_json_log_lines(index):
    from fhir_ire.logs import JsonFormatter

    record = logging.LogRecord("fhir_ire.access", logging.INFO, __file__, 1, "GET %s", ("/health",), None)
    record.request_id, record.status = "abc", 200
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /health" and line["request_id"] == "abc" and line["status"] == 200
    assert line["level"] == "info" and line["time"].endswith("Z")


def test_no_cors_headers_unless_configured(index):
    r = client(index).get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    pre = client(index).options("/cds-services/x", headers={
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 403 and pre.is_json


def test_cors_preflight_for_an_allowed_origin(index):
    c = client(index, CORS_ORIGIN=["https://sandbox.cds-hooks.org"])
    pre = c.options("/cds-services/ire-order-sign", headers={
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in pre.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "Origin" in pre.headers["Vary"]
    got = c.get("/fhir/metadata", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert got.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    assert "X-Request-ID" in got.headers["Access-Control-Expose-Headers"]
    other = c.options("/fhir/metadata", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other.headers


def test_cors_any_origin(index):
    c = client(index, CORS_ORIGIN=["*"])
    r = c.get("/cds-services", headers={"Origin": "https://anywhere.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path, headers", [
    ("/fhir/metadata", {"Accept": "application/fhir+xml"}),
    ("/fhir/metadata?_format=xml", {}),
    (LOOKUP + "&_format=application/fhir%2Bxml", {}),
    ("/fhir/CodeSystem", {"Accept": "application/xml;q=0.9, text/xml"}),
], ids=["accept-xml", "format-xml", "format-fhir-xml", "accept-xml-list"])
def test_xml_asked_for_is_406_with_a_json_outcome(index, path, headers):
    r = client(index).get(path, headers=headers)
    assert r.status_code == 406 and r.mimetype == "application/fhir+json"
    assert r.get_json()["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize("path, headers", [
    ("/fhir/metadata?_format=json", {}),
    ("/fhir/metadata?_format=application/fhir%2Bjson", {}),
    ("/fhir/metadata", {"Accept": "application/fhir+xml, application/fhir+json;q=0.5"}),
    ("/fhir/metadata", {"Accept": "*/*"}),
], ids=["format-json", "format-fhir-json", "accept-either", "accept-any"])
def test_json_forms_are_accepted(index, path, headers):
    r = client(index).get(path, headers=headers)
    assert r.status_code == 200 and r.get_json()["resourceType"] == "CapabilityStatement"


def test_an_empty_bundles_folder_is_refused_unless_allowed(tmp_path):
    with pytest.raises(BundleError, match="no Bundle to serve"):
        create_app({"BUNDLES": str(tmp_path)})
    assert create_app({"BUNDLES": str(tmp_path), "ALLOW_EMPTY": True})


def test_a_fifo_in_the_bundles_folder_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.json")
    with pytest.raises(BundleError, match="pipe.json: not a regular file"):
        load_bundles(tmp_path)


def test_a_link_to_a_device_is_refused(tmp_path):
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    with pytest.raises(BundleError, match="zero.json: not a regular file"):
        load_bundles(tmp_path)


def test_an_oversized_bundle_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from fhir_ire import store

    (tmp_path / "big.json").write_text(json.dumps({"resourceType": "Bundle", "entry": []}) + " " * 2000)
    monkeypatch.setattr(store, "MAX_BUNDLE_BYTES", 1000)
    with pytest.raises(BundleError, match="big.json: too large: 2,0.. bytes, the limit is 1,000"):
        store.load_bundles(tmp_path)


def test_deeply_nested_json_in_a_bundle_is_one_error(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(BundleError, match="deep.json"):
        load_bundles(tmp_path)
