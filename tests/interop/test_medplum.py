"""`fhir-ire load` into Medplum's FHIR engine: read-back, search by url, idempotence, Medplum's validator."""

import copy
import json
import shutil
from pathlib import Path

import pytest
import requests

from fhir_ire.cli import main
from fhir_ire.store import read_bundle

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "bundles"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bundles"


def resources_in(folder: Path) -> list[dict]:
    out = []
    for path in sorted(folder.glob("*.json")):
        bundle = read_bundle(path)
        out += [e["resource"] for e in (bundle or {}).get("entry", [])]
    return out


RESOURCES = resources_in(BUNDLES)


def key(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def stored(resource: dict) -> dict:
    """A read-back resource without the meta elements the server writes."""
    out = copy.deepcopy(resource)
    meta = out.pop("meta", {})
    meta = {k: v for k, v in meta.items() if k not in ("versionId", "lastUpdated")}
    return {**out, "meta": meta} if meta else out


def load(capsys, base: str, folder: Path, *extra) -> tuple[int, str, str]:
    code = main(["load", "--server", base, "--bundles", str(folder), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def totals(out: str) -> list[int]:
    return [int(n) for n in next(x for x in out.splitlines() if x.startswith("total")).split()[1:]]


def read_all(base: str) -> dict[str, dict]:
    return {key(r): requests.get(f"{base}/{key(r)}", timeout=10).json() for r in RESOURCES}


@pytest.fixture(scope="module")
def loaded(medplum):
    """Medplum with the project's bundles loaded once by `fhir-ire load`; its base URL."""
    code = main(["load", "--server", medplum, "--bundles", str(BUNDLES)])
    assert code == 0
    return medplum


def test_bundles_hold_resources_to_load():
    assert len(RESOURCES) > 20
    assert {"CodeSystem", "ValueSet", "ConceptMap", "PlanDefinition"} <= {r["resourceType"] for r in RESOURCES}


def test_load_creates_every_resource(capsys, start_engine):
    engine = start_engine()  # an empty one: the module's engine may already hold the bundles
    try:
        code, out, err = load(capsys, engine.base + "/", BUNDLES)  # a trailing slash on the base is fine
    finally:
        engine.stop()
    assert (code, err) == (0, "")
    assert totals(out) == [len(RESOURCES), 0, 0, 0]
    for rtype in {r["resourceType"] for r in RESOURCES}:
        count = sum(1 for r in RESOURCES if r["resourceType"] == rtype)
        assert any(line.split()[:2] == [rtype, str(count)] for line in out.splitlines()), rtype


def test_every_resource_reads_back_equal(loaded):
    different = []
    for resource in RESOURCES:
        resp = requests.get(f"{loaded}/{key(resource)}", timeout=10)
        if resp.status_code != 200 or stored(resp.json()) != resource:
            different.append(f"{key(resource)}: HTTP {resp.status_code}")
    assert different == []


def test_canonical_resources_are_found_by_url(loaded):
    problems = []
    for resource in [r for r in RESOURCES if r.get("url")]:
        params = {"url": resource["url"]}
        if resource.get("version"):
            params["version"] = resource["version"]
        found = requests.get(f"{loaded}/{resource['resourceType']}", params=params, timeout=10).json()
        ids = [e["resource"]["id"] for e in found.get("entry", [])]
        if ids != [resource["id"]]:
            problems.append(f"{resource['resourceType']}?url={resource['url']}: {ids}")
    assert problems == []


def test_conceptmaps_are_found_by_source_code(loaded):
    maps = [r for r in RESOURCES if r["resourceType"] == "ConceptMap"]
    for cm in maps:
        code = cm["group"][0]["element"][0]["code"]
        found = requests.get(f"{loaded}/ConceptMap", params={"source-code": code, "_count": 100}, timeout=10).json()
        assert cm["id"] in {e["resource"]["id"] for e in found.get("entry", [])}


def test_second_load_changes_nothing(capsys, loaded):
    before = read_all(loaded)
    history = {k: len(requests.get(f"{loaded}/{k}/_history", timeout=10).json().get("entry", [])) for k in before}
    code, out, _ = load(capsys, loaded, BUNDLES)
    assert code == 0
    assert totals(out) == [0, 0, len(RESOURCES), 0]
    assert read_all(loaded) == before  # same content and the same versionId: nothing was written
    assert {k: len(requests.get(f"{loaded}/{k}/_history", timeout=10).json().get("entry", [])) for k in before} \
        == history


def test_medplum_validator_accepts_every_resource(loaded):
    errors = []
    for resource in RESOURCES:
        answer = requests.post(f"{loaded}/{resource['resourceType']}/$validate", json=resource, timeout=10).json()
        errors += [f"{key(resource)}: {i.get('details', {}).get('text')} {i.get('expression')}"
                   for i in answer["issue"] if i["severity"] in ("error", "fatal")]
    assert errors == []


def test_medplum_validator_catches_a_broken_resource(loaded):
    # The control for the test above: the validator does find errors in our kind of resource.
    broken = copy.deepcopy(next(r for r in RESOURCES if r["resourceType"] == "ConceptMap"))
    del broken["status"]
    broken["group"][0]["element"][0]["displai"] = "typo"
    answer = requests.post(f"{loaded}/ConceptMap/$validate", json=broken, timeout=10).json()
    texts = {(i["details"]["text"], i["expression"][0]) for i in answer["issue"] if i["severity"] == "error"}
    assert ("Missing required property", "ConceptMap.status") in texts
    assert ('Invalid additional property "displai"', "ConceptMap.group[0].element[0].displai") in texts


def test_refused_bundle_gives_medplum_diagnostics(capsys, medplum, tmp_path):
    bundle = json.loads((FIXTURES / "01-terminology.json").read_text())
    del bundle["entry"][0]["resource"]["status"]
    (tmp_path / "01-terminology.json").write_text(json.dumps(bundle))
    code, _, err = load(capsys, medplum, tmp_path)
    assert code == 1
    assert err == (f"fhir-ire load: error: 01-terminology.json: POST {medplum}: HTTP 400: "
                   "Missing required property (CodeSystem.status)\n")


def test_fixture_bundles_are_valid_for_medplum(capsys, medplum):
    code, out, err = load(capsys, medplum, FIXTURES)
    assert (code, err) == (0, "")
    assert totals(out)[3] == 0


def test_request_size_limit_splits_batches(capsys, start_engine):
    engine = start_engine(MAX_BODY=25000)  # bytes; the largest bundle is about 90 KB
    try:
        code, out, err = load(capsys, engine.base, BUNDLES)
        assert (code, err) == (0, "")
        assert "request too large, splitting" in out
        assert totals(out)[3] == 0
        for resource in RESOURCES:
            assert stored(requests.get(f"{engine.base}/{key(resource)}", timeout=10).json()) == resource
    finally:
        engine.stop()


def test_a_changed_resource_is_updated_in_place(capsys, start_engine, tmp_path):
    engine = start_engine()
    try:
        assert load(capsys, engine.base, FIXTURES)[0] == 0
        url = f"{engine.base}/ConceptMap/cpt-to-icd10cm-fixture"
        first = requests.get(url, timeout=10).json()
        shutil.copytree(FIXTURES, tmp_path / "b")
        path = tmp_path / "b" / "01-terminology.json"
        bundle = json.loads(path.read_text())
        bundle["entry"][3]["resource"]["group"][0]["element"][0]["target"].pop()
        path.write_text(json.dumps(bundle))
        code, out, _ = load(capsys, engine.base, tmp_path / "b")
        now = requests.get(url, timeout=10).json()
        history = requests.get(f"{url}/_history", timeout=10).json()
    finally:
        engine.stop()
    assert code == 0 and totals(out) == [0, 1, 7, 0]
    assert stored(now) == bundle["entry"][3]["resource"]
    assert now["meta"]["versionId"] != first["meta"]["versionId"] and len(history["entry"]) == 2
