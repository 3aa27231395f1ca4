"""$lookup and $subsumes as plain functions over the fixture bundle and the full ICD-10-CM."""

import pytest

from fhir_ire.errors import InvalidRequest, NotFound
from fhir_ire.terminology.lookup import lookup, subsumes
from tests.terminology.conftest import params


def _values(result: dict) -> dict:
    out = {}
    for p in result["parameter"]:
        value = next((v for k, v in p.items() if k.startswith("value")), p.get("part"))
        out.setdefault(p["name"], []).append(value)
    return out


@pytest.mark.parametrize("system, code, display", [
    ("http://www.ama-assn.org/go/cpt", "0600T", "Ablation, irreversible electroporation; 1 or more tumors per organ, "
     "including imaging guidance, when performed, percutaneous"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C25.0", "Malignant neoplasm of head of pancreas"),
    ("http://example.org/cs/colors", "red", "Red"),
], ids=["cpt-fragment", "icd10cm-full", "bundle-codesystem"])
def test_lookup_returns_display(scope, system, code, display):
    assert _values(lookup(scope, params(system=system, code=code)))["display"] == [display]


def test_lookup_reports_parent_and_child_properties(scope):
    props = _values(lookup(scope, params(system="http://hl7.org/fhir/sid/icd-10-cm", code="C25")))["property"]
    codes = {(p[0]["valueCode"], p[-1]["valueCode"]) for p in props if p[0]["valueCode"] in ("parent", "child")}
    assert ("child", "C25.0") in codes


def test_lookup_property_filter_keeps_only_asked_properties(scope):
    result = _values(lookup(scope, params(system="http://example.org/cs/colors", code="orange", property="inactive")))
    assert [p[0]["valueCode"] for p in result["property"]] == ["inactive"]
    assert result["property"][0][1]["valueBoolean"] is True


def test_lookup_designations(scope):
    result = _values(lookup(scope, params(system="http://example.org/cs/colors", code="red")))
    values = [d[-1]["valueString"] for d in result["designation"]]
    assert "Rot" in values
    assert values[0] == "Red", "the display is listed first, as the preferred designation"


def test_lookup_accepts_a_coding(scope):
    coding = {"system": "http://www.ama-assn.org/go/cpt", "code": "19105"}
    assert _values(lookup(scope, params(coding=coding)))["version"] == ["2026"]


def test_lookup_unknown_code_is_not_found(scope):
    with pytest.raises(NotFound, match="Unknown code 'XXXXX'"):
        lookup(scope, params(system="http://www.ama-assn.org/go/cpt", code="XXXXX"))


def test_lookup_unknown_system_is_not_found(scope):
    with pytest.raises(NotFound, match="http://example.org/nothing"):
        lookup(scope, params(system="http://example.org/nothing", code="a"))


def test_lookup_code_without_system_is_invalid(scope):
    with pytest.raises(InvalidRequest, match="system"):
        lookup(scope, params(code="0600T"))


@pytest.mark.parametrize("a, b, outcome", [
    ("C25", "C25.0", "subsumes"),
    ("C25.0", "C25", "subsumed-by"),
    ("C25.0", "C25.0", "equivalent"),
    ("C25.0", "C22.0", "not-subsumed"),
], ids=["subsumes", "subsumed-by", "equivalent", "not-subsumed"])
def test_subsumes_on_icd10cm_hierarchy(scope, a, b, outcome):
    result = subsumes(scope, params(system="http://hl7.org/fhir/sid/icd-10-cm", codeA=a, codeB=b))
    assert _values(result)["outcome"] == [outcome]


def test_subsumes_cpt_has_no_hierarchy(scope):
    result = subsumes(scope, params(system="http://www.ama-assn.org/go/cpt", codeA="0600T", codeB="0601T"))
    assert _values(result)["outcome"] == ["not-subsumed"]
