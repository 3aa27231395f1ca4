"""The FHIR R4 core code systems and value sets shipped as package data."""

import pytest

from fhir_ire.terminology.core import load_core, select
from fhir_ire.terminology.expand import expand
from fhir_ire.terminology.registry import Registry
from fhir_ire.terminology.validate import validate_code
from fhir_ire.terminology.valuesets import resolve_valueset
from tests.terminology.conftest import params

GENDER = "http://hl7.org/fhir/administrative-gender"


@pytest.fixture(scope="module")
def core_registry(index):
    return Registry(index, core=load_core())


def test_core_value_set_expands_from_the_official_definition(core_registry):
    scope = core_registry.scope()
    out = expand(scope, resolve_valueset(scope, params(url="http://hl7.org/fhir/ValueSet/administrative-gender")),
                 params())
    assert [c["code"] for c in out["expansion"]["contains"]] == ["male", "female", "other", "unknown"]
    assert {"name": "used-codesystem", "valueUri": GENDER + "|4.0.1"} in out["expansion"]["parameter"]


def test_core_code_validates(core_registry):
    result = validate_code(core_registry.scope(), params(url=GENDER, code="female"), "CodeSystem")
    assert next(p["valueBoolean"] for p in result["parameter"] if p["name"] == "result") is True


def test_a_definition_sent_with_the_request_wins_over_the_core_one(core_registry):
    mine = {"resourceType": "CodeSystem", "url": GENDER, "version": "9", "status": "active", "content": "complete",
            "concept": [{"code": "x", "display": "X"}]}
    assert core_registry.scope([mine]).codesystem(GENDER).version == "9"


def test_selection_keeps_complete_fhir_code_systems_and_the_value_sets_built_on_them():
    cs = {"resourceType": "CodeSystem", "url": "http://hl7.org/fhir/a", "content": "complete"}
    example = {"resourceType": "CodeSystem", "url": "http://hl7.org/fhir/b", "content": "complete", "experimental": True}
    partial = {"resourceType": "CodeSystem", "url": "http://hl7.org/fhir/c", "content": "fragment"}
    tho = {"resourceType": "CodeSystem", "url": "http://terminology.hl7.org/CodeSystem/d", "content": "complete"}
    good = {"resourceType": "ValueSet", "url": "http://hl7.org/fhir/ValueSet/a", "compose": {"include": [
        {"system": "http://hl7.org/fhir/a"}]}}
    uses_tho = {"resourceType": "ValueSet", "url": "http://hl7.org/fhir/ValueSet/d", "compose": {"include": [
        {"system": "http://terminology.hl7.org/CodeSystem/d"}]}}
    imports_bad = {"resourceType": "ValueSet", "url": "http://hl7.org/fhir/ValueSet/e", "compose": {"include": [
        {"valueSet": ["http://hl7.org/fhir/ValueSet/d"]}]}}
    bundle = {"entry": [{"resource": r} for r in (cs, example, partial, tho, good, uses_tho, imports_bad)]}
    assert [r["url"] for r in select(bundle)] == ["http://hl7.org/fhir/a", "http://hl7.org/fhir/ValueSet/a"]
