"""mount(): the service as a plugin in a host Flask app that has its own routes and error pages."""

import shutil

import pytest
from flask import Flask

from fhir_ire.app import MountError, mount

from ..conftest import ROOT


def host_app(root):
    app = Flask("host", root_path=str(root))

    @app.get("/")
    def home():
        return "host home"

    @app.post("/orders")
    def orders():
        return {"ok": True}

    @app.errorhandler(404)
    def not_found(e):
        return "<h1>host page not found</h1>", 404

    @app.errorhandler(405)
    def not_allowed(e):
        return "<h1>host method not allowed</h1>", 405

    return app


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    root = tmp_path_factory.mktemp("host")
    shutil.copytree(ROOT / "bundles", root / "knowledge")
    app = host_app(root)
    mount(app, {"BUNDLES": "knowledge"}, prefix="/ire")  # relative to the host app's root path
    return app


def test_host_routes_and_error_pages_keep_working(host):
    c = host.test_client()
    assert c.get("/").get_data(as_text=True) == "host home"
    missing = c.get("/nothing-here")
    assert missing.status_code == 404 and "host page not found" in missing.get_data(as_text=True)
    wrong = c.get("/orders")
    assert wrong.status_code == 405 and "host method not allowed" in wrong.get_data(as_text=True)


def test_our_routes_and_errors_live_under_the_prefix(host):
    c = host.test_client()
    assert c.get("/ire/fhir/metadata").get_json()["resourceType"] == "CapabilityStatement"
    assert c.get("/ire/cds-services").get_json()["services"]
    assert c.get("/ire/health").get_json()["status"] == "ok"
    missing = c.get("/ire/fhir/CodeSystem/no-such-thing")
    assert missing.status_code == 404 and missing.get_json()["resourceType"] == "OperationOutcome"
    unknown_path = c.get("/ire/fhir/a/b/c/d")
    assert unknown_path.status_code == 404 and unknown_path.get_json()["resourceType"] == "OperationOutcome"


def test_mounting_again_the_same_way_changes_nothing(host):
    rules = len(list(host.url_map.iter_rules()))
    mount(host, {"BUNDLES": "knowledge"}, prefix="/ire")
    assert len(list(host.url_map.iter_rules())) == rules


def test_mounting_again_differently_is_a_clear_error(host):
    with pytest.raises(MountError, match="already mounted on this app at '/ire'"):
        mount(host, {"BUNDLES": "knowledge"}, prefix="/other")


def test_bundles_relative_to_a_config_file(tmp_path):
    (tmp_path / "etc").mkdir()
    shutil.copytree(ROOT / "bundles", tmp_path / "data")
    (tmp_path / "etc" / "ire.toml").write_text('bundles = "../data"\n')
    app = host_app(tmp_path / "elsewhere")
    mount(app, tmp_path / "etc" / "ire.toml", prefix="/kb")
    assert app.extensions["fhir_ire.config"]["BUNDLES"] == str((tmp_path / "data").resolve())
    assert app.test_client().get("/kb/health").status_code == 200


def test_an_absolute_bundles_path_is_used_as_given(tmp_path):
    app = host_app(tmp_path)
    mount(app, {"BUNDLES": str(ROOT / "bundles")})
    assert app.extensions["fhir_ire.config"]["BUNDLES"] == str(ROOT / "bundles")
    assert app.test_client().get("/").get_data(as_text=True) == "host home"
