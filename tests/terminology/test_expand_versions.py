"""Expansions over several versions of one code system, concept extensions as properties, languages."""

from fhir_ire.terminology.expand import expand
from tests.terminology.conftest import params

URL = "http://example.org/cs/multi"
V1 = {"resourceType": "CodeSystem", "url": URL, "version": "1.0.0", "status": "active", "content": "complete",
      "concept": [{"code": "a", "display": "A"}, {"code": "b", "display": "B"}]}
V2 = {"resourceType": "CodeSystem", "url": URL, "version": "2.0.0", "status": "active", "content": "complete",
      "language": "en", "concept": [{"code": "a", "display": "A", "designation": [{"language": "de", "value": "A-de"}]},
                                    {"code": "c", "display": "C",
                                     "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/"
                                                           "codesystem-conceptOrder", "valueInteger": 7}]}]}


def _vs(compose, parameters=None):
    if parameters:
        compose = {**compose, "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter",
                                             "extension": [{"url": "name", "valueCode": k},
                                                           {"url": "value", "valueString": v}]}
                                            for k, v in parameters.items()]}
    return {"resourceType": "ValueSet", "url": "http://example.org/vs/multi", "status": "active", "compose": compose}


def _codes(out):
    return [(c["code"], c.get("version")) for c in out["expansion"]["contains"]]


def test_two_pinned_versions_give_each_code_with_its_version(registry):
    vs = _vs({"include": [{"system": URL, "version": "1.0.0"}, {"system": URL, "version": "2.0.0"}]})
    out = expand(registry.scope([V1, V2]), vs, params())
    assert sorted(_codes(out)) == [("a", "1.0.0"), ("a", "2.0.0"), ("b", "1.0.0"), ("c", "2.0.0")]


def test_versions_match_merges_codes_to_their_newest_version(registry):
    vs = _vs({"include": [{"system": URL, "version": "1.0.0"}, {"system": URL, "version": "2.0.0"}]},
             {"versionsMatch": "true"})
    out = expand(registry.scope([V1, V2]), vs, params())
    assert sorted(_codes(out)) == [("a", "2.0.0"), ("b", "1.0.0"), ("c", "2.0.0")]
    assert {"name": "versionsMatch", "valueBoolean": True} in out["expansion"]["parameter"]


def test_exclude_of_an_included_version_removes_that_version_only(registry):
    vs = _vs({"include": [{"system": URL, "version": "1.0.0"}, {"system": URL, "version": "2.0.0"}],
              "exclude": [{"system": URL, "version": "1.0.0", "concept": [{"code": "a"}]}]})
    assert ("a", "2.0.0") in _codes(expand(registry.scope([V1, V2]), vs, params()))


def test_exclude_of_another_version_removes_the_code_from_every_version(registry):
    vs = _vs({"include": [{"system": URL, "version": "2.0.0"}], "exclude": [{"system": URL, "version": "1.0.0"}]})
    assert _codes(expand(registry.scope([V1, V2]), vs, params())) == [("c", "2.0.0")]


def test_concept_order_extension_is_an_expansion_property(registry):
    out = expand(registry.scope([V2]), _vs({"include": [{"system": URL}]}), params())
    c = next(i for i in out["expansion"]["contains"] if i["code"] == "c")
    assert c["extension"][0]["extension"] == [{"url": "code", "valueCode": "order"},
                                              {"url": "value", "valueDecimal": 7}]


def test_hard_language_gives_no_display_where_the_language_has_none(registry):
    out = expand(registry.scope([V2]), _vs({"include": [{"system": URL}]}),
                 params(displayLanguage="de, *; q=0", includeDesignations=True))
    a, c = out["expansion"]["contains"]
    assert a["display"] == "A-de"
    assert "display" not in c and c["designation"][0]["value"] == "C"


def test_designation_parameter_keeps_the_designations_asked_for(registry):
    out = expand(registry.scope([V2]), _vs({"include": [{"system": URL}]}),
                 params(includeDesignations=True, designation="urn:ietf:bcp:47|fr"))
    assert all("designation" not in c for c in out["expansion"]["contains"])
