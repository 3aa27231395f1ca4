"""$translate as a plain function: forward, reverse, R5 names, target system, no match."""

import pytest

from fhir_ire.errors import InvalidRequest, NotFound
from fhir_ire.store import ResourceIndex, load_bundles
from fhir_ire.terminology.registry import Registry
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


def _scanned(cm: dict, code: str, reverse: bool) -> list:
    """The oracle: every element of every group walked, as $translate did before it was indexed."""
    found = []
    for group in cm["group"]:
        for el in group["element"]:
            for t in el.get("target") or []:
                if (t["code"] if reverse else el["code"]) == code:
                    source = {"system": group["source"], "code": el["code"]} if reverse else None
                    found.append((group["target"], t["code"], t.get("equivalence"), source))
    return found


def _found(result) -> list:
    return [(m["concept"]["system"], m["concept"]["code"], m["equivalence"], m.get("source"))
            for m in _matches(result)]


def test_translations_of_every_code_of_the_committed_maps_are_the_walked_ones(root):
    registry = Registry(load_bundles(root / "bundles"))
    seen = 0
    for cm in registry.index.all("ConceptMap"):
        for group in cm["group"]:
            for el in group["element"]:
                forward = translate(registry.scope(), params(url=cm["url"], system=group["source"], code=el["code"]))
                assert _found(forward) == _scanned(cm, el["code"], False) != []
                for t in el.get("target") or []:
                    reverse = translate(registry.scope(), params(url=cm["url"], targetCode=t["code"],
                                                                 targetSystem=group["target"]))
                    assert _found(reverse) == _scanned(cm, t["code"], True) != []
                    seen += 1
    assert seen >= 10


class Counted(dict):
    """A map element or target that counts how often its entries are read."""

    reads = 0

    def get(self, key, default=None):
        Counted.reads += 1
        return super().get(key, default)

    def __getitem__(self, key):
        Counted.reads += 1
        return super().__getitem__(key)


def test_translation_cost_follows_the_request_not_the_map_size():
    size = 20_000
    cm = {"resourceType": "ConceptMap", "id": "large", "url": "http://example.org/cm/large", "group": [
        {"source": CPT, "target": ICD, "element": [
            Counted(code=f"{i:04d}X", target=[Counted(code=f"Z{i:05d}", equivalence="equivalent")])
            for i in range(size)]}]}
    index = ResourceIndex()
    index.add(cm)
    registry = Registry(index)
    Counted.reads = 0
    forward = translate(registry.scope(), params(url=cm["url"], system=CPT, code="1234X"))
    reverse = translate(registry.scope(), params(url=cm["url"], targetCode="Z01234", targetSystem=ICD))
    assert _found(forward) == [(ICD, "Z01234", "equivalent", None)]
    assert _found(reverse) == [(ICD, "Z01234", "equivalent", {"system": CPT, "code": "1234X"})]
    assert Counted.reads < 20  # the matched element and target only; a walk reads every element (20,000)
