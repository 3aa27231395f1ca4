"""Code system supplements: useSupplement and valueset-supplement bring designations, properties and labels."""

import pytest

from fhir_ire.terminology.expand import expand
from fhir_ire.terminology.lookup import lookup
from fhir_ire.terminology.outcome import TxError
from fhir_ire.terminology.validate import validate_code
from tests.terminology.conftest import params

BASE = {"resourceType": "CodeSystem", "url": "http://example.org/cs/base", "status": "active", "content": "complete",
        "language": "en", "concept": [{"code": "a", "display": "Alpha"}, {"code": "b", "display": "Beta"}]}
SUPPLEMENT = {"resourceType": "CodeSystem", "url": "http://example.org/cs/supp", "version": "1.1", "status": "active",
              "content": "supplement", "supplements": "http://example.org/cs/base",
              "property": [{"code": "colour", "uri": "http://example.org/props/colour", "type": "string"}],
              "concept": [{"code": "a", "designation": [{"language": "nl", "value": "Alfa"}],
                           "property": [{"code": "colour", "valueString": "red"}],
                           "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/codesystem-label",
                                          "valueString": "(a)"}]}]}
VS = {"resourceType": "ValueSet", "url": "http://example.org/vs/base", "status": "active",
      "compose": {"include": [{"system": "http://example.org/cs/base"}]}}


def _named(result, name):
    return [p for p in result["parameter"] if p["name"] == name]


def test_lookup_with_a_supplement_lists_its_designations_with_their_source(registry):
    scope = registry.scope([BASE, SUPPLEMENT])
    result = lookup(scope, params(system=BASE["url"], code="a", useSupplement=SUPPLEMENT["url"]))
    dutch = [p["part"] for p in _named(result, "designation") if p["part"][0].get("valueCode") == "nl"]
    assert dutch and {"name": "source", "valueCanonical": "http://example.org/cs/supp|1.1"} in dutch[0]
    assert _named(result, "used-supplement")[0]["valueCanonical"] == "http://example.org/cs/supp|1.1"


def test_lookup_without_the_supplement_has_none_of_its_content(registry):
    result = lookup(registry.scope([BASE, SUPPLEMENT]), params(system=BASE["url"], code="a"))
    assert not any(p["part"][0].get("valueCode") == "nl" for p in _named(result, "designation"))
    assert not _named(result, "used-supplement")


def test_expansion_with_a_supplement_carries_its_label_and_property(registry):
    scope = registry.scope([BASE, SUPPLEMENT, VS])
    out = expand(scope, VS, params(useSupplement=SUPPLEMENT["url"], property="colour"))
    item = out["expansion"]["contains"][0]
    props = {e["extension"][0]["valueCode"]: e["extension"][1] for e in item["extension"]}
    assert props["label"] == {"url": "value", "valueString": "(a)"}
    assert props["colour"] == {"url": "value", "valueString": "red"}
    assert {"name": "used-supplement", "valueUri": "http://example.org/cs/supp|1.1"} in out["expansion"]["parameter"]


def test_a_supplement_display_is_a_valid_display(registry):
    vs = {**VS, "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/valueset-supplement",
                               "valueCanonical": "http://example.org/cs/supp"}]}
    result = validate_code(registry.scope([BASE, SUPPLEMENT]), params(valueSet=vs, coding={
        "system": BASE["url"], "code": "a", "display": "Alfa"}), "ValueSet")
    assert _named(result, "result")[0]["valueBoolean"] is True


def test_a_missing_supplement_is_not_found(registry):
    with pytest.raises(TxError, match="Required supplement not found") as err:
        lookup(registry.scope([BASE]), params(system=BASE["url"], code="a", useSupplement="http://example.org/cs/x"))
    assert err.value.status == 404


def test_a_supplement_is_not_a_coding_system(registry):
    result = validate_code(registry.scope([BASE, SUPPLEMENT]), params(coding={"system": SUPPLEMENT["url"], "code": "a"}),
                           "CodeSystem")
    assert _named(result, "result")[0]["valueBoolean"] is False
    assert "is a supplement" in _named(result, "message")[0]["valueString"]
