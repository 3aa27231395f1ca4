"""$validate-code as a plain function: result=false answers, fragments, displays, CodeableConcepts."""

import pytest

from fhir_ire.errors import InvalidRequest, NotFound
from fhir_ire.terminology.validate import validate_code
from tests.terminology.conftest import params

VS = "http://example.org/vs/ire-procedures"
CPT = "http://www.ama-assn.org/go/cpt"


def _get(result, name):
    return next((v for p in result["parameter"] if p["name"] == name
                 for k, v in p.items() if k.startswith("value") or k == "resource"), None)


def _tx_types(result):
    issues = (_get(result, "issues") or {}).get("issue", [])
    return [c["code"] for i in issues for c in i["details"].get("coding", [])]


def test_code_in_value_set_is_valid(scope):
    result = validate_code(scope, params(url=VS, system=CPT, code="0600T"), "ValueSet")
    assert _get(result, "result") is True
    assert _get(result, "display").startswith("Ablation, irreversible electroporation")


def test_code_outside_value_set_is_false_not_an_error(scope):
    result = validate_code(scope, params(url=VS, system=CPT, code="19105"), "ValueSet")
    assert _get(result, "result") is False
    assert "not-in-vs" in _tx_types(result)


def test_unknown_code_in_fragment_is_a_warning(scope):
    result = validate_code(scope, params(url=CPT, code="99999"), "CodeSystem")
    assert _get(result, "result") is True
    assert _get(result, "issues")["issue"][0]["severity"] == "warning"
    assert _get(result, "message") is None


def test_unknown_code_in_complete_system_is_invalid(scope):
    result = validate_code(scope, params(url="http://hl7.org/fhir/sid/icd-10-cm", code="C99.99"), "CodeSystem")
    assert _get(result, "result") is False
    assert "invalid-code" in _tx_types(result)


def test_wrong_display_is_reported(scope):
    coding = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C25.0", "display": "Pancreas cancer"}
    result = validate_code(scope, params(coding=coding), "CodeSystem")
    assert _get(result, "result") is False
    assert "invalid-display" in _tx_types(result)


def test_case_insensitive_system_accepts_other_case(scope):
    result = validate_code(scope, params(url="http://example.org/cs/colors", code="RED"), "CodeSystem")
    assert _get(result, "result") is True
    assert _get(result, "normalized-code") == "red"


def test_icd10cm_is_a_value_set_membership(scope):
    ok = validate_code(scope, params(url="http://example.org/vs/pancreas-dx", system="http://hl7.org/fhir/sid/icd-10-cm",
                                     code="C25.1"), "ValueSet")
    no = validate_code(scope, params(url="http://example.org/vs/pancreas-dx", system="http://hl7.org/fhir/sid/icd-10-cm",
                                     code="C22.0"), "ValueSet")
    assert (_get(ok, "result"), _get(no, "result")) == (True, False)


def test_codeable_concept_valid_when_one_coding_is(scope):
    cc = {"coding": [{"system": CPT, "code": "19105"}, {"system": CPT, "code": "0601T"}]}
    result = validate_code(scope, params(url=VS, codeableConcept=cc), "ValueSet")
    assert _get(result, "result") is True
    assert _get(result, "code") == "0601T"


def test_unknown_system_is_false_with_caused_by(scope):
    result = validate_code(scope, params(url=VS, system="http://example.org/unknown", code="a"), "ValueSet")
    assert _get(result, "result") is False
    assert _get(result, "x-unknown-system") == "http://example.org/unknown"


def test_two_inputs_conflict(scope):
    with pytest.raises(InvalidRequest, match="only one"):
        validate_code(scope, params(url=VS, code="0600T", system=CPT, coding={"system": CPT, "code": "0600T"}),
                      "ValueSet")


def test_no_input_is_required(scope):
    with pytest.raises(InvalidRequest, match="Unable to find code to validate"):
        validate_code(scope, params(url=VS), "ValueSet")


def test_unknown_value_set_is_not_found(scope):
    with pytest.raises(NotFound, match="http://example.org/vs/none"):
        validate_code(scope, params(url="http://example.org/vs/none", system=CPT, code="0600T"), "ValueSet")


def test_tx_resource_value_set_is_used_for_the_request_only(registry):
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/inline", "status": "active",
          "compose": {"include": [{"system": CPT, "concept": [{"code": "19105"}]}]}}
    scope = registry.scope([vs])
    result = validate_code(scope, params(url="http://example.org/vs/inline", system=CPT, code="19105"), "ValueSet")
    assert _get(result, "result") is True
    with pytest.raises(NotFound):
        validate_code(registry.scope(), params(url="http://example.org/vs/inline", system=CPT, code="19105"),
                      "ValueSet")
