"""Every operation parameter with a value of the wrong type is a 400 OperationOutcome (or is ignored), never a 500."""

import json

import pytest

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
BASES = {
    "CodeSystem/$lookup": [("system", "valueUri", ICD), ("code", "valueCode", "C25.0")],
    "CodeSystem/$validate-code": [("url", "valueUri", ICD), ("code", "valueCode", "C25.0")],
    "CodeSystem/$subsumes": [("system", "valueUri", ICD), ("codeA", "valueCode", "C25"), ("codeB", "valueCode", "C25.0")],
    "ValueSet/$validate-code": [("url", "valueUri", "http://example.org/vs/pancreas-dx"),
                                ("system", "valueUri", ICD), ("code", "valueCode", "C25.0")],
    "ValueSet/$expand": [("url", "valueUri", "http://example.org/vs/pancreas-dx")],
    "ValueSet/$batch-validate-code": [("url", "valueUri", "http://example.org/vs/pancreas-dx")],
    "ConceptMap/$translate": [("sourceSystem", "valueUri", "http://www.ama-assn.org/go/cpt"),
                              ("sourceCode", "valueCode", "0600T")],
}
NAMES = ["code", "system", "version", "url", "display", "property", "designation", "useSupplement", "displayLanguage",
         "filter", "count", "offset", "activeOnly", "includeDesignations", "includeDefinition", "excludeNested",
         "system-version", "force-system-version", "check-system-version", "default-valueset-version",
         "valueSetVersion", "systemVersion", "coding", "codeableConcept", "valueSet", "codeSystem", "conceptMap",
         "sourceCode", "sourceSystem", "sourceCoding", "sourceCodeableConcept", "targetCode", "targetSystem",
         "targetsystem", "targetCoding", "reverse", "abstract", "lenient-display-validation", "inferSystem",
         "valueset-membership-only", "tx-resource", "validation", "codeA", "codeB", "codingA", "codingB", "context",
         "conceptMapVersion", "date"]
WRONG = {"coding": {"valueCoding": {"system": "http://x", "code": "x"}}, "integer": {"valueInteger": 7},
         "boolean": {"valueBoolean": True}, "string": {"valueString": "x"}, "parts": {"part": [{"name": "a"}]},
         "resource": {"resource": {"resourceType": "Basic"}}, "codeable": {"valueCodeableConcept": {"coding": "x"}}}


@pytest.mark.parametrize("operation", sorted(BASES))
@pytest.mark.parametrize("kind", sorted(WRONG))
def test_wrong_value_type_is_never_a_server_error(client, operation, kind):
    statuses = {}
    for name in NAMES:
        params = [{"name": n, k: v} for n, k, v in BASES[operation] if n != name]
        params.append({"name": name, **WRONG[kind]})
        resp = client.post(f"/fhir/{operation}", data=json.dumps({"resourceType": "Parameters", "parameter": params}),
                           content_type="application/fhir+json")
        statuses[name] = resp.status_code
        assert resp.content_type.startswith("application/fhir+json")
    assert not {n: s for n, s in statuses.items() if s >= 500}, statuses
