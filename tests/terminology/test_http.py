"""The /fhir blueprint through Flask's test client: formats, status codes and OperationOutcomes."""

import json

import pytest

FHIR_JSON = "application/fhir+json"
CPT = "http://www.ama-assn.org/go/cpt"


def _outcome_code(resp):
    body = resp.get_json(force=True)
    assert resp.mimetype == FHIR_JSON
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["code"]


def test_metadata_is_an_r4_capability_statement(client):
    body = client.get("/fhir/metadata").get_json(force=True)
    assert (body["resourceType"], body["fhirVersion"]) == ("CapabilityStatement", "4.0.1")
    ops = {o["name"] for r in body["rest"][0]["resource"] for o in r.get("operation", [])}
    assert {"lookup", "validate-code", "expand", "translate", "subsumes"} <= ops


def test_terminology_capabilities_list_code_systems(client):
    body = client.get("/fhir/metadata?mode=terminology").get_json(force=True)
    uris = {c["uri"] for c in body["codeSystem"]}
    assert {CPT, "http://hl7.org/fhir/sid/icd-10-cm"} <= uris


def test_read_and_unknown_id(client):
    assert client.get("/fhir/CodeSystem/cpt").get_json(force=True)["url"] == CPT
    resp = client.get("/fhir/CodeSystem/none")
    assert resp.status_code == 404 and _outcome_code(resp) == "not-found"


def test_search_by_url_gives_a_searchset(client):
    body = client.get(f"/fhir/CodeSystem?url={CPT}").get_json(force=True)
    assert (body["type"], body["total"]) == ("searchset", 1)
    assert body["link"][0]["relation"] == "self"


def test_search_summary_count_has_no_entries(client):
    body = client.get("/fhir/ValueSet?_summary=count").get_json(force=True)
    assert body["total"] == 3 and "entry" not in body


def test_search_paging_links(client):
    body = client.get("/fhir/ValueSet?_count=1").get_json(force=True)
    assert len(body["entry"]) == 1 and any(link["relation"] == "next" for link in body["link"])


@pytest.mark.parametrize("method", ["get", "post"])
def test_lookup_get_and_post(client, method):
    if method == "get":
        resp = client.get(f"/fhir/CodeSystem/$lookup?system={CPT}&code=0600T")
    else:
        resp = client.post("/fhir/CodeSystem/$lookup", content_type=FHIR_JSON, data=json.dumps({
            "resourceType": "Parameters", "parameter": [{"name": "system", "valueUri": CPT},
                                                        {"name": "code", "valueCode": "0600T"}]}))
    assert resp.status_code == 200 and resp.mimetype == FHIR_JSON


def test_instance_level_validate_code(client):
    body = client.get("/fhir/ValueSet/ire-procedures/$validate-code?system=" + CPT + "&code=19105").get_json(force=True)
    assert next(p["valueBoolean"] for p in body["parameter"] if p["name"] == "result") is False


def test_expand_with_tx_resource(client):
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/posted", "status": "active",
          "compose": {"include": [{"system": CPT, "concept": [{"code": "19105"}]}]}}
    resp = client.post("/fhir/ValueSet/$expand", content_type=FHIR_JSON, data=json.dumps({
        "resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": "http://example.org/vs/posted"},
                                                    {"name": "tx-resource", "resource": vs}]}))
    assert resp.get_json(force=True)["expansion"]["contains"][0]["code"] == "19105"


@pytest.mark.parametrize("path, body, status, code", [
    ("/fhir/CodeSystem/$lookup", "{not json", 400, "invalid"),
    ("/fhir/CodeSystem/$lookup", '{"resourceType": "Patient"}', 400, "invalid"),
    ("/fhir/CodeSystem/$lookup", '[1, 2]', 400, "invalid"),
    ("/fhir/CodeSystem/$lookup", '{"resourceType": "Parameters", "parameter": [{"name": "code", "valueCode": "x"}]}',
     400, "required"),
    ("/fhir/ValueSet/$expand", '{"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": '
     '"http://hl7.org/fhir/sid/icd-10-cm?fhir_vs"}, {"name": "count", "valueString": "many"}]}', 400, "invalid"),
    ("/fhir/ValueSet/$expand", '{"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": '
     '"http://hl7.org/fhir/sid/icd-10-cm?fhir_vs"}]}', 422, "too-costly"),
    ("/fhir/ValueSet/$expand", '{"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": '
     '"http://example.org/vs/none"}]}', 404, "not-found"),
], ids=["malformed-json", "not-parameters", "not-an-object", "no-system", "count-not-integer", "too-costly",
        "unknown-value-set"])
def test_bad_requests_are_operation_outcomes(client, path, body, status, code):
    resp = client.post(path, data=body, content_type=FHIR_JSON)
    assert resp.status_code == status
    assert _outcome_code(resp) == code


@pytest.mark.parametrize("path, parameter", [
    ("/fhir/ValueSet/$expand", {"name": "valueSet", "resource": {"resourceType": "ValueSet",
                                                                "compose": {"include": "nope"}}}),
    ("/fhir/ValueSet/$expand", {"name": "valueSet", "resource": {"resourceType": "ValueSet", "compose": {"include": [
        {"system": CPT, "filter": [{"property": "concept", "op": "is-a", "value": 5}]}]}}}),
    ("/fhir/ValueSet/$validate-code", {"name": "coding", "valueCoding": {"system": 5, "code": ["a"]}}),
    ("/fhir/ValueSet/$validate-code", {"name": "codeableConcept", "valueCodeableConcept": {"coding": "x"}}),
    ("/fhir/ConceptMap/$translate", {"name": "coding", "valueCoding": {"system": CPT, "code": 600}}),
], ids=["include-not-a-list", "filter-value-not-a-string", "coding-fields-not-strings", "coding-not-a-list",
        "translate-code-not-a-string"])
def test_wrong_types_inside_resources_are_400(client, path, parameter):
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": "http://example.org/vs/ire-procedures"}, parameter]}
    if "valueSet" == parameter["name"]:
        body["parameter"] = [parameter]
    resp = client.post(path, data=json.dumps(body), content_type=FHIR_JSON)
    assert resp.status_code == 400
    assert _outcome_code(resp) == "invalid"


def test_over_large_count_is_capped_or_refused(client):
    resp = client.get("/fhir/ValueSet/$expand?url=http://hl7.org/fhir/sid/icd-10-cm?fhir_vs&count=100000000")
    assert resp.status_code in (200, 400, 422)
    if resp.status_code != 200:
        assert _outcome_code(resp) == "too-costly"


@pytest.mark.parametrize("path", ["/fhir/Nope/$lookup", "/fhir/a/b/c/d", "/fhir/CodeSystem/cpt/$nope"])
def test_unknown_paths_are_fhir_errors_not_html(client, path):
    resp = client.get(path)
    assert 400 <= resp.status_code < 500
    assert resp.mimetype == FHIR_JSON


def test_wrong_method_is_an_operation_outcome(client):
    resp = client.delete("/fhir/CodeSystem/cpt")
    assert resp.status_code == 405 and _outcome_code(resp) == "not-supported"


def test_health(client):
    assert client.get("/health").get_json()["status"] == "ok"


def test_mounted_under_a_prefix(index):
    from flask import Flask

    from fhir_ire.app import mount

    host = Flask("host")
    mount(host, {"INDEX": index}, prefix="/ire")
    assert host.test_client().get("/ire/fhir/metadata").status_code == 200


def test_batch_validate_code_answers_each_item(client):
    def item(params):
        return {"name": "validation", "resource": {"resourceType": "Parameters", "parameter": params}}
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": "http://example.org/vs/ire-procedures"},
        item([{"name": "coding", "valueCoding": {"system": CPT, "code": "0600T"}}]),
        item([{"name": "coding", "valueCoding": {"system": CPT, "code": "19105"}}]),
        item([])]}
    answers = [p["resource"] for p in client.post("/fhir/ValueSet/$batch-validate-code", data=json.dumps(body),
                                                  content_type=FHIR_JSON).get_json(force=True)["parameter"]]
    results = [next((p["valueBoolean"] for p in a.get("parameter", []) if p["name"] == "result"), None)
               for a in answers]
    assert results == [True, False, None]
    assert answers[2]["resourceType"] == "OperationOutcome"
