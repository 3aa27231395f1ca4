"""$validate-code: deprecation, abstract codes, systems that are not code systems, languages, membership only."""

import pytest

from fhir_ire.terminology.outcome import TxError
from fhir_ire.terminology.validate import batch_validate_code, validate_code
from tests.terminology.conftest import params

SD = "http://hl7.org/fhir/StructureDefinition/"
CS = {"resourceType": "CodeSystem", "url": "http://example.org/cs/st", "status": "active", "content": "complete",
      "language": "en", "property": [{"code": "notSelectable", "type": "boolean"}],
      "concept": [{"code": "old", "display": "Old", "extension": [{"url": SD + "structuredefinition-standards-status",
                                                                    "valueCode": "deprecated"}]},
                  {"code": "ok", "display": "Okay", "designation": [
                      {"language": "de", "value": "In Ordnung"},
                      {"language": "en", "value": "Fine", "extension": [
                          {"url": SD + "structuredefinition-standards-status", "valueCode": "withdrawn"}]}]},
                  {"code": "group", "display": "Group", "property": [{"code": "notSelectable", "valueBoolean": True}]}]}
VS = {"resourceType": "ValueSet", "url": "http://example.org/vs/st", "version": "1", "status": "active",
      "compose": {"include": [{"system": CS["url"], "concept": [
          {"code": "old"}, {"code": "group"},
          {"code": "ok", "extension": [{"url": SD + "valueset-deprecated", "valueBoolean": True}]}]}]}}


def _get(result, name):
    return next((p.get("valueBoolean", p.get("valueString", p.get("valueCode", p.get("resource"))))
                 for p in result["parameter"] if p["name"] == name), None)


def _ids(result):
    return [i["extension"][0]["valueString"] for i in (_get(result, "issues") or {"issue": []})["issue"]]


def _check(registry, **values):
    return validate_code(registry.scope([CS, VS]), params(url=VS["url"], **values), "ValueSet")


def test_deprecated_concept_is_valid_with_a_warning(registry):
    result = _check(registry, coding={"system": CS["url"], "code": "old"})
    assert _get(result, "result") is True
    assert "DEPRECATED_CONCEPT_FOUND" in _ids(result) and _get(result, "status") == "deprecated"
    assert _get(result, "inactive") is None


def test_concept_deprecated_in_the_value_set_is_a_warning(registry):
    result = _check(registry, coding={"system": CS["url"], "code": "ok"})
    assert _get(result, "result") is True and "CONCEPT_DEPRECATED_IN_VALUESET" in _ids(result)


def test_a_withdrawn_designation_is_no_longer_a_correct_display(registry):
    result = _check(registry, coding={"system": CS["url"], "code": "ok", "display": "Fine"})
    assert _get(result, "result") is True and "INACTIVE_DISPLAY_FOUND" in _ids(result)


def test_abstract_code_refused_when_abstract_is_false(registry):
    assert _get(_check(registry, coding={"system": CS["url"], "code": "group"}), "result") is True
    result = _check(registry, coding={"system": CS["url"], "code": "group"}, abstract=False)
    assert _get(result, "result") is False and "ABSTRACT_CODE_NOT_ALLOWED" in _ids(result)


def test_value_set_url_as_coding_system(registry):
    result = _check(registry, coding={"system": VS["url"], "code": "ok"})
    assert "Terminology_TX_System_ValueSet2" in _ids(result) and _get(result, "x-unknown-system") is None


def test_relative_coding_system(registry):
    result = _check(registry, coding={"system": "local", "code": "ok"})
    assert {"Terminology_TX_System_Relative", "UNKNOWN_CODESYSTEM"} <= set(_ids(result))


def test_unknown_system_with_version_says_no_version_is_known(registry):
    result = _check(registry, codeableConcept={"coding": [{"system": "http://example.org/none", "version": "2",
                                                           "code": "x"}]})
    assert "UNKNOWN_CODESYSTEM_VERSION_NONE" in _ids(result)
    severities = {i["extension"][0]["valueString"]: i["severity"] for i in _get(result, "issues")["issue"]}
    assert severities["None_of_the_provided_codes_are_in_the_value_set_one"] == "information"


def test_membership_only_skips_code_and_display_checks(registry):
    result = _check(registry, coding={"system": CS["url"], "code": "nope", "display": "x"},
                    **{"valueset-membership-only": True})
    assert _get(result, "result") is False and "Unknown_Code_in_Version" not in _ids(result)


def test_value_set_language_is_the_default_display_language(registry):
    vs = {**VS, "language": "de"}
    result = validate_code(registry.scope([CS]), params(valueSet=vs, coding={"system": CS["url"], "code": "ok",
                                                                             "display": "Okay"}), "ValueSet")
    assert "(for the language(s) 'de')" in _get(result, "message")


def test_malformed_display_language_is_a_400(registry):
    with pytest.raises(TxError, match="Invalid displayLanguage") as err:
        _check(registry, coding={"system": CS["url"], "code": "ok"}, displayLanguage="-")
    assert err.value.status == 400


def test_batch_entry_parameters_override_shared_ones(registry):
    entry = {"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": CS["url"], "code": "ok", "display": "wrong"}},
        {"name": "lenient-display-validation", "valueBoolean": False}]}
    result = batch_validate_code(registry.scope([CS, VS]), params(**{"url": VS["url"], "lenient-display-validation": True,
                                                                      "validation": entry}))
    answer = result["parameter"][0]["resource"]
    assert _get(answer, "result") is False
