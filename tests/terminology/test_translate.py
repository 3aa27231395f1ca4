"""$translate as a plain function: forward, reverse, R5 names, target system, no match."""

import pytest

from fhir_ire.errors import InvalidRequest, NotFound
from fhir_ire.terminology.translate import translate
from tests.terminology.conftest import params

CPT, ICD = "http://www.ama-assn.org/go/cpt", "http://hl7.org/fhir/sid/icd-10-cm"


def _matches(result):
    return [{p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in m["part"]}
            for m in result["parameter"] if m["name"] == "match"]


def _result(result):
    return next(p["valueBoolean"] for p in result["parameter"] if p["name"] == "result")


@pytest.mark.parametrize("values", [
    {"system": CPT, "code": "0600T"},
    {"sourceSystem": CPT, "sourceCode": "0600T"},
    {"coding": {"system": CPT, "code": "0600T"}},
    {"system": CPT, "code": "0600T", "targetsystem": ICD},
    {"system": CPT, "code": "0600T", "targetSystem": ICD},
], ids=["r4-code", "r5-sourceCode", "coding", "r4-targetsystem", "r5-targetSystem"])
def test_forward_translation(scope, values):
    result = translate(scope, params(**values))
    match = _matches(result)[0]
    assert _result(result) is True
    assert match["concept"]["code"] == "C25.0"
    assert (match["equivalence"], match["relationship"]) == ("relatedto", "related-to")
    assert match["message"] == "Stage III pancreatic adenocarcinoma"
    assert match["originMap"] == "http://example.org/cm/cpt-to-icd10cm|1"


@pytest.mark.parametrize("values", [
    {"system": ICD, "code": "C25.0", "reverse": "true"},
    {"targetSystem": ICD, "targetCode": "C25.0"},
], ids=["r4-reverse", "r5-targetCode"])
def test_reverse_translation_names_the_source(scope, values):
    match = _matches(translate(scope, params(**values)))[0]
    assert match["source"] == {"system": CPT, "code": "0600T"}


def test_other_target_system_finds_nothing(scope):
    result = translate(scope, params(system=CPT, code="0600T", targetsystem="http://nucc.org/provider-taxonomy"))
    assert _result(result) is False and _matches(result) == []


def test_missing_code_is_invalid(scope):
    with pytest.raises(InvalidRequest, match="Provide the code"):
        translate(scope, params(system=CPT))


def test_unknown_map_url_is_not_found(scope):
    with pytest.raises(NotFound, match="ConceptMap"):
        translate(scope, params(url="http://example.org/cm/none", system=CPT, code="0600T"))
