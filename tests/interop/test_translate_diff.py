"""Differential $translate: Medplum's conceptMapTranslate and ours agree on every element of every published map.

For each (map, group, source code) we ask both engines twice, with the group's target system and without one,
and once more per map for a code the map does not hold. The maps are the published bundles, plus the test
fixture map, which also has a `narrower` target and groups towards two target systems. We compare `result`
and the set of (equivalence, concept system, concept code) of the matches; `message` and the map-URL part
differ by design.
"""

from pathlib import Path

import pytest
import requests

from fhir_ire import create_app
from fhir_ire.cli import main
from fhir_ire.store import read_bundle

pytestmark = pytest.mark.integration

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bundles"
FOLDERS = {"bundles": BUNDLES, "fixtures": FIXTURES}
ABSENT_CODE = "ZZZZ9"  # not a CPT code, so in no map


def conceptmaps(folder: Path = BUNDLES) -> list[dict]:
    maps = []
    for path in sorted(folder.glob("*.json")):
        bundle = read_bundle(path) or {}
        maps += [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "ConceptMap"]
    return maps


def cases() -> list:
    out = []
    for folder in FOLDERS:
        for cm in conceptmaps(FOLDERS[folder]):
            for g, group in enumerate(cm.get("group", [])):
                for element in group.get("element", []):
                    for target in (group.get("target"), None):
                        name = f"{cm['id']}/group{g}/{element['code']}" + ("/targetsystem" if target else "")
                        out.append(pytest.param(folder, cm["url"], group["source"], element["code"], target, id=name))
            source = cm["group"][0]["source"]
            out.append(pytest.param(folder, cm["url"], source, ABSENT_CODE, None, id=f"{cm['id']}/absent-code"))
    return out


def parameters(url, system, code, targetsystem) -> dict:
    params = [{"name": "url", "valueUri": url}, {"name": "system", "valueUri": system},
              {"name": "code", "valueCode": code}]
    if targetsystem:
        params.append({"name": "targetsystem", "valueUri": targetsystem})
    return {"resourceType": "Parameters", "parameter": params}


def summary(answer: dict) -> tuple[bool, set]:
    """(result, {(equivalence, system, code)}) of a $translate answer."""
    result = next(p["valueBoolean"] for p in answer["parameter"] if p["name"] == "result")
    matches = set()
    for p in answer["parameter"]:
        if p["name"] == "match":
            parts = {part["name"]: part for part in p["part"]}
            concept = parts["concept"]["valueCoding"]
            matches.add((parts["equivalence"]["valueCode"], concept.get("system"), concept.get("code")))
    return result, matches


@pytest.fixture(scope="module")
def ours():
    return {name: create_app({"BUNDLES": str(folder)}).test_client() for name, folder in FOLDERS.items()}


@pytest.fixture(scope="module")
def theirs(medplum):
    for folder in FOLDERS.values():  # ids and urls differ between the two folders
        assert main(["load", "--server", medplum, "--bundles", str(folder)]) == 0
    return medplum


def test_every_published_map_has_elements_to_compare():
    maps = conceptmaps()
    assert maps and all(cm.get("group") for cm in maps)
    assert len(cases()) >= 2 * len(maps)


@pytest.mark.parametrize("folder, url, system, code, targetsystem", cases())
def test_translate_agrees_with_medplum(ours, theirs, folder, url, system, code, targetsystem):
    body = parameters(url, system, code, targetsystem)
    mine = ours[folder].post("/fhir/ConceptMap/$translate", json=body)
    assert mine.status_code == 200, mine.get_json()
    medplum = requests.post(f"{theirs}/ConceptMap/$translate", json=body, timeout=10)
    assert medplum.status_code == 200, medplum.text
    expected = summary(medplum.json())
    assert summary(mine.get_json()) == expected
    assert expected[0] is (code != ABSENT_CODE)  # the comparison is not vacuous: hits and misses both occur
