"""The whole build: valid FHIR R4, deterministic, golden bundles, atomic output, --check, mapping policies."""

import json
import shutil

import jsonschema
import pytest

from fhir_ire.build.command import build_to, output_files
from fhir_ire.cli import main
from fhir_ire.r4 import dump, validate

from .conftest import AS_OF, SEEDS


def test_every_resource_passes_the_r4b_model(seed_resources):
    assert len(seed_resources) > 40
    for res in seed_resources:
        validate(res)


def test_every_bundle_passes_the_official_r4_schema(seed_build, fhir_schema_path):
    validator = jsonschema.Draft6Validator(json.loads(fhir_schema_path.read_text()))
    files = seed_build[0]
    checked = 0
    for name, data in files.items():
        if name.endswith(".json") and "/" not in name:
            errors = [e.message[:200] for e in validator.iter_errors(data)]
            assert errors == [], name
            checked += 1
    assert checked == 5  # four bundles and the QA OperationOutcome


def test_schema_check_rejects_a_broken_resource(fhir_schema_path):
    validator = jsonschema.Draft6Validator(json.loads(fhir_schema_path.read_text()))
    assert list(validator.iter_errors({"resourceType": "Organization", "id": "x", "active": "yes"}))


def test_bundles_are_transactions_of_puts(seed_build):
    for name, data in seed_build[0].items():
        if data.get("resourceType") == "Bundle":
            assert data["type"] == "transaction"
            for e in data["entry"]:
                r = e["resource"]
                assert e["request"] == {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}


def test_build_is_deterministic(nucc_sample):
    a = output_files(SEEDS, nucc_sample, as_of=AS_OF)[0]
    b = output_files(SEEDS, nucc_sample, as_of=AS_OF)[0]
    assert {k: dump(v) for k, v in a.items()} == {k: dump(v) for k, v in b.items()}


def test_committed_bundles_match_a_fresh_build(root):
    """Golden files: regenerate with `fhir-ire build` (embedded NUCC; --check uses the as-of date they record)."""
    assert main(["build", "--seeds", str(root / "seeds"), "--out", str(root / "bundles"), "--check"]) == 0


def test_check_fails_when_output_differs(tmp_path, nucc_sample, capsys):
    out = tmp_path / "out"
    build_to(SEEDS, out, nucc_sample, as_of=AS_OF)
    args = ["build", "--seeds", str(SEEDS), "--out", str(out), "--nucc", str(nucc_sample), "--as-of", "2026-01-15"]
    assert main(args + ["--check"]) == 0
    (out / "02-terminology.json").write_text("{}")
    assert main(args + ["--check"]) == 1
    assert "02-terminology.json" in capsys.readouterr().err


def test_bad_document_leaves_existing_output_untouched(tmp_path, nucc_sample, capsys):
    out = tmp_path / "out"
    build_to(SEEDS, out, nucc_sample, as_of=AS_OF)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "zz-broken.txt").write_bytes(b"\x00\x01\x02binary")
    assert main(["build", "--seeds", str(seeds), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "zz-broken.txt" in err and "binary" in err
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "seeds"]  # no temporary folder left behind


def test_missing_seed_folder_is_one_line_error(tmp_path, capsys):
    assert main(["build", "--seeds", str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 1
    assert "source folder not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _map(files, rid):
    bundle = files["02-terminology.json"]
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)


def _targets(cm, proc):
    return {t["code"]: t for g in cm["group"] for e in g["element"] if e["code"] == proc for t in e["target"]}


@pytest.mark.parametrize("policy, expected", [
    ("correct", {"2085R0204X", "2085R0202X", "207Y00000X", "208800000X", "2086X0206X"}),
    ("annotate", {"208800000X", "208600000X", "207P00000X", "207L00000X", "207K00000X"}),
    ("omit", set()),
])
def test_mapping_policy_shows_in_the_nucc_map(nucc_sample, policy, expected):
    files = output_files(SEEDS, nucc_sample, as_of=AS_OF, mapping_policy=policy)[0]
    bundle = files["02-terminology.json"]
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    if not expected:
        assert "cpt-to-nucc" not in ids
        return
    cm = _map(files, "cpt-to-nucc")
    targets = _targets(cm, "0600T")
    assert set(targets) == expected
    assert f"'{policy}'" in cm["description"]
    if policy == "correct":
        assert "corrected by specialty name to 2085R0204X" in targets["2085R0204X"]["comment"]
        assert targets["2085R0204X"]["display"] == "Vascular & Interventional Radiology Physician"
    else:
        assert targets["208800000X"]["display"] == "Urology Physician"  # never the source's contradicting name
        assert "Kept as written" in targets["208800000X"]["comment"]


def test_icd_targets_use_official_titles_and_say_why(seed_build):
    targets = _targets(_map(seed_build[0], "cpt-to-icd10cm"), "0600T")
    assert targets["C64.1"]["display"] == "Malignant neoplasm of right kidney, except renal pelvis"
    assert "upper pole of right kidney" in targets["C64.1"]["comment"]
    assert "not billable" in targets["C34.9"]["comment"] and "C34.90" in targets["C34.9"]["comment"]
    assert all(t["equivalence"] == "relatedto" for t in targets.values())


def test_qa_outcome_has_one_issue_per_finding(seed_build):
    files, _, findings = seed_build
    outcome = files["qa-outcome.json"]
    assert outcome["resourceType"] == "OperationOutcome" and len(outcome["issue"]) == len(findings)
    issue = next(i for i in outcome["issue"] if i["details"]["coding"][0]["code"] == "icd-not-billable")
    ext = {e["url"]: list(e.values())[1] for e in issue["extension"][0]["extension"]}
    assert ext["code"] == "C34.9" and ext["line"] == 43 and ext["file"].startswith("001_")
    assert ext["source-says"] and ext["codeset-says"]


def test_facts_are_written_for_review(seed_build):
    facts = seed_build[0]["facts/003_b10156e311b6c405.json"]
    assert facts["kind"] == "payer-policy"
    cov = next(f for f in facts["facts"] if f["kind"] == "coverage-statement")
    assert cov["source"] == {"file": "003_b10156e311b6c405.txt", "line": 60, "end_line": 60, "quote": cov["source"]["quote"]}
