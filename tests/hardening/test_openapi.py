"""/openapi.json describes every route the app serves, with its methods, and nothing it does not serve."""

import re

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

IGNORED = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def served(client):
    return client.get("/openapi.json").json


def flask_routes(app) -> dict[str, set[str]]:
    routes = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(m for m in rule.methods if m not in IGNORED)
    return routes


def test_every_flask_route_is_described_with_its_methods(client, served):
    described = {path: {m.upper() for m in ops} for path, ops in served["paths"].items()}
    missing = {path: methods - described.get(path, set()) for path, methods in flask_routes(client.application).items()}
    assert {p: m for p, m in missing.items() if m} == {}, "add these routes to fhir_ire/data/openapi.json"


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_described_path_is_served(client, served, method):
    adapter = client.application.url_map.bind("localhost")
    unserved = []
    for path, ops in served["paths"].items():
        if method in ops:
            try:
                adapter.match(re.sub(r"\{[^}]+\}", "x", path), method=method.upper())
            except (NotFound, MethodNotAllowed):
                unserved.append(path)
    assert unserved == []


def test_each_cds_service_and_terminology_operation_has_its_own_path(client, served):
    services = client.get("/cds-services").json["services"]
    assert {"/cds-services/" + s["id"] for s in services} <= set(served["paths"])
    assert {"/fhir/CodeSystem/$lookup", "/fhir/ValueSet/$expand", "/fhir/ConceptMap/$translate"} <= set(served["paths"])


def test_the_description_is_a_valid_openapi_document(served):
    import schemathesis

    schema = schemathesis.openapi.from_dict(served)
    assert len(list(schema.get_all_operations())) >= len(served["paths"])
