"""`/openapi.json`: an OpenAPI 3.1 description of every route, read by clients and by the fuzz tests. The generic
routes are written in fhir_ire/data/openapi.json; each terminology operation and each CDS service gets its own path
here (from the data file's operation table and the discovery document), so generated requests reach the engines."""

import copy

from flask import jsonify

from fhir_ire.data import load as load_data


def describe(services: list[dict], prefix: str = "") -> dict:
    doc = copy.deepcopy(load_data("openapi.json"))
    operations = doc.pop("x-fhir-operations")
    generic = doc["paths"]["/fhir/{rtype}/{op}"]
    for path, names in operations.items():
        query = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]
        doc["paths"]["/fhir/" + path] = {
            "get": {**generic["get"], "operationId": path, "parameters": query, "summary": f"{path} (GET form)"},
            "post": {**generic["post"], "operationId": path + " POST", "parameters": [],
                     "summary": f"{path} with a Parameters body"}}
    call = doc["paths"]["/cds-services/{service_id}"]["post"]
    for service in services:
        body = copy.deepcopy(call["requestBody"])
        schema = copy.deepcopy(doc["components"]["schemas"]["HookCall"])
        schema["properties"]["hook"] = {"const": service["hook"]}
        body["content"]["application/json"]["schema"] = schema
        doc["paths"]["/cds-services/" + service["id"]] = {"post": {
            **call, "operationId": service["id"], "summary": service.get("title", service["id"]), "parameters": [],
            "requestBody": body}}
    if prefix:
        doc["servers"] = [{"url": prefix}]
    return doc


def init(app, engine, prefix: str = "") -> None:
    document = describe(engine.discovery["services"], prefix)

    @app.get(prefix + "/openapi.json", endpoint="fhir_ire_openapi")
    def openapi():
        return jsonify(document)
