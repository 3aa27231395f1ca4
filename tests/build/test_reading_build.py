"""The build around the readers: one report line per document, --strict, the source manifest, positions per procedure
and codes inferred from the other documents, payer identity on the rules."""

import json
import shutil

import pytest

from fhir_ire.build.command import build_to, output_files
from fhir_ire.cli import main
from fhir_ire.errors import BuildError

from .conftest import AS_OF, SEEDS
from .test_rules import applies

LETTER = "Dear colleague,\nThank you for the lovely lunch last week. See you at the conference.\n"
NO_PAYER_POLICY = """Irreversible Electroporation
Policy Number: MP-900
Effective Date: 01/01/2025

POLICY:

For all indications, irreversible electroporation (IRE) is considered investigational.
"""
TWO_POSITIONS = """NORTHSHORE TEST HEALTH PLAN
Medical Policy

Ablation of Solid Tumors
Policy Number: NTH-77
Effective Date: 02/01/2025

Policy

Percutaneous cryoablation of small malignant breast tumors may be considered medically necessary when the tumor is
2 cm or smaller.

Irreversible electroporation is considered investigational for all indications.
"""


def folder(tmp_path, **extra):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    for name, text in extra.items():
        (seeds / name).write_text(text, encoding="utf-8")
    return seeds


def rules(files):
    return {e["resource"]["id"]: e["resource"] for e in files["03-coverage.json"]["entry"]
            if e["resource"]["resourceType"] == "PlanDefinition"}


def action_codes(action, rule) -> set[str]:
    """The codes of the rule's focus an order of which makes the action apply (its conditions evaluated)."""
    payer = next(u["valueReference"]["reference"].split("/")[1] for u in rule["useContext"] if u["code"]["code"] == "payer")
    focus = next(u["valueCodeableConcept"]["coding"] for u in rule["useContext"] if u["code"]["code"] == "focus")
    return {c["code"] for c in focus if applies(action, payerId=[payer], orderCodes=[c])}


def determination(action) -> str:
    return next(e["valueCode"] for e in action["extension"][0]["extension"] if e["url"] == "covered")


def test_one_report_line_per_document_and_left_out_documents_do_not_block_the_others(tmp_path, capsys):
    seeds = folder(tmp_path, **{"letter.txt": LETTER, "mp-900.txt": NO_PAYER_POLICY})
    assert main(["build", "--seeds", str(seeds), "--out", str(tmp_path / "out"), "--as-of", "2026-01-15"]) == 0
    out = capsys.readouterr().out
    assert "left out     letter.txt: not a code report, reimbursement guide or payer policy" in out
    assert "partly read  mp-900.txt (payer-policy" in out and "no payer" in out
    assert "read         003_b10156e311b6c405.txt (payer-policy" in out
    outcome = json.loads((tmp_path / "out" / "qa-outcome.json").read_text())
    codes = {i["details"]["coding"][0]["code"] for i in outcome["issue"]}
    assert {"document-left-out", "document-partly-read", "payer-unknown"} <= codes
    facts = json.loads((tmp_path / "out" / "facts" / "letter.json").read_text())
    assert facts["status"] == "left out" and facts["facts"] == []


def test_strict_fails_on_a_left_out_or_partly_read_document_and_writes_nothing(tmp_path, capsys):
    seeds = folder(tmp_path, **{"letter.txt": LETTER})
    out = tmp_path / "out"
    assert main(["build", "--seeds", str(seeds), "--out", str(out), "--strict"]) == 1
    err = capsys.readouterr().err.strip()
    assert "--strict" in err and "letter.txt left out" in err and "\n" not in err
    assert not out.exists()


def test_strict_passes_when_every_document_is_read(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(next(SEEDS.glob("003_*")), seeds)
    build_to(seeds, tmp_path / "out", strict=True, as_of=AS_OF)
    assert (tmp_path / "out" / "03-coverage.json").exists()


def test_manifest_names_the_payer_a_document_never_names(tmp_path):
    manifest = {"documents": {"mp-900.txt": {"payer": "Blue Cross of Idaho", "address": "https://example.org/mp-900",
                                             "retrieved": "2025-05-02"}}}
    seeds = folder(tmp_path, **{"mp-900.txt": NO_PAYER_POLICY, "sources.json": json.dumps(manifest, indent=2)})
    files, documents, findings = output_files(seeds, None, as_of=AS_OF)
    assert "sources.json" not in {d.file for d in documents}  # the manifest is not a document
    doc = next(d for d in documents if d.file == "mp-900.txt")
    payer = next(f for f in doc.facts if f.kind == "policy-field" and f.name == "payer")
    assert payer.value == "Blue Cross of Idaho" and payer.source.file == "sources.json" and payer.source.line == 4
    assert doc.status == "partly read" and "payer" not in doc.missing
    rule = rules(files)["coverage-blue-cross-of-idaho-mp-900"]
    assert action_codes(rule["action"][0], rule) == {"0600T", "0601T"}
    assert determination(rule["action"][0]) == "not-covered"
    refs = {e["resource"]["id"]: e["resource"] for e in files["01-sources.json"]["entry"]}
    assert refs["doc-mp-900"]["custodian"] == {"display": "Blue Cross of Idaho"}
    assert refs["doc-mp-900"]["date"] == "2025-05-02T00:00:00Z"
    assert refs["doc-mp-900"]["content"][1]["attachment"]["url"] == "https://example.org/mp-900"
    assert "doc-sources" in refs  # the manifest is published, so the facts citing it can be followed


@pytest.mark.parametrize("manifest, message", [
    ("{not json", r"sources\.json:1: source manifest is not valid JSON"),
    ('{"documents": {"a.txt": {"payor": "X"}}}', "unknown fields"),
    ('{"documents": {"a.txt": {"retrieved": "yesterday"}}}', "retrieved is not a date"),
    ('{"documents": []}', 'no "documents" object'),
])
def test_a_broken_manifest_is_a_one_line_error(tmp_path, manifest, message):
    seeds = folder(tmp_path, **{"sources.json": manifest})
    with pytest.raises(BuildError, match=message):
        output_files(seeds, None, as_of=AS_OF)


def test_positions_per_procedure_and_codes_inferred_from_the_other_documents(tmp_path):
    """The policy names two procedures and no code; the seeds establish 0581T (breast cryoablation) and 0600T/0601T
    (irreversible electroporation): each position governs its own codes, each inferred code is a finding."""
    seeds = folder(tmp_path, **{"nth-77.txt": TWO_POSITIONS})
    files, _, findings = output_files(seeds, None, as_of=AS_OF)
    rule = rules(files)["coverage-northshore-test-health-plan-nth-77"]
    by_answer = {determination(a): action_codes(a, rule) for a in rule["action"]}
    assert by_answer == {"conditional": {"0581T"}, "not-covered": {"0600T", "0601T"}}
    inferred = {f.value: f for f in findings if f.code == "codes-inferred" and f.source.file == "nth-77.txt"}
    assert set(inferred) == {"0581T", "0600T", "0601T"}
    assert "cryoablation" in inferred["0581T"].source_says.lower() and "004_" in inferred["0581T"].codeset_says


def test_a_denial_is_never_spread_over_unnamed_indications(tmp_path):
    """'investigational for all other indications' names no site: no code is inferred from it."""
    text = TWO_POSITIONS.replace("Irreversible electroporation is considered investigational for all indications.",
                                 "Cryoablation is considered investigational for all other indications.")
    seeds = folder(tmp_path, **{"nth-77.txt": text})
    files, _, _ = output_files(seeds, None, as_of=AS_OF)
    rule = rules(files)["coverage-northshore-test-health-plan-nth-77"]
    assert {determination(a) for a in rule["action"]} == {"conditional"}


def test_the_same_policy_twice_gives_two_rules_not_a_broken_build(tmp_path):
    seeds = folder(tmp_path, **{"copy-of-003.txt": next(SEEDS.glob("003_*")).read_text(encoding="utf-8")})
    ids = [i for i in rules(output_files(seeds, None, as_of=AS_OF)[0]) if i.startswith("coverage-independent")]
    assert len(ids) == 2
