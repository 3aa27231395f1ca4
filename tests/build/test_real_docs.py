"""Floors on reading documents as payers and code sites publish them (../shared/real-docs, built together with the
seeds), documents written after the readers (fixtures/unseen) and two sets of documents written blind of the readers
(fixtures/holdout and fixtures/blind2, built with the seeds), scored by benchmarks/reading.py. The floors can only
rise: every document of the three kinds read, at least 90% of the expected facts read right (the blind sets: the
share measured when their floors were set), and no coverage category or prior-authorization answer read wrong (a
wrong answer is worse than a missing one)."""

import importlib.util
import json
from pathlib import Path

import pytest

from fhir_ire.sources import read_source

HERE = Path(__file__).resolve().parent
BENCHMARK = HERE.parent.parent / "benchmarks" / "reading.py"
UNSEEN = HERE / "fixtures" / "unseen"
HOLDOUT = HERE / "fixtures" / "holdout"
# The held-out set's share of expected facts read right: 59.3% blind (its first commit), 95.7% when its floor was
# first set, 96.6% after the fixes the second blind set showed, 98.7% after the third's. Raise it as the readers
# improve; never lower it.
HOLDOUT_FLOOR = 0.98
BLIND2 = HERE / "fixtures" / "blind2"
# The second blind set: 63.5% blind (the commit after its first), 91.5% when this floor was set, 96.1% after the third
# blind set's fixes. Raise it as the readers improve; never lower it.
BLIND2_FLOOR = 0.96


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("reading_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def real_docs_score(bench, shared):
    real = shared / "real-docs"
    expected = json.loads((real / "EXPECTED.json").read_text())
    documents, left = bench.build_real_docs(real)
    return bench.score(documents, expected, left)


@pytest.fixture(scope="module")
def unseen_score(bench):
    expected = json.loads((UNSEEN / "EXPECTED.json").read_text())
    documents, left = [], {}
    for name in expected:
        doc = read_source(UNSEEN / name)
        if doc.left_out:
            left[name] = doc.left_out
        else:
            documents.append(doc)
    return bench.score(documents, expected, left)


@pytest.fixture(scope="module")
def holdout_score(bench):
    expected = json.loads((HOLDOUT / "EXPECTED.json").read_text())
    documents, left = bench.build_real_docs(HOLDOUT)
    return bench.score(documents, expected, left)


@pytest.fixture(scope="module")
def blind2_score(bench):
    expected = json.loads((BLIND2 / "EXPECTED.json").read_text())
    documents, left = bench.build_real_docs(BLIND2)
    return bench.score(documents, expected, left)


SCORES = ["real_docs_score", "unseen_score", "holdout_score", "blind2_score"]


@pytest.mark.parametrize("which", SCORES)
def test_every_document_of_the_three_kinds_is_read(request, which):
    score = request.getfixturevalue(which)
    assert score.left_out == {}
    assert score.wrong.get("kind", 0) == 0 and score.missed.get("kind", 0) == 0


@pytest.mark.parametrize("which", SCORES)
def test_at_least_90_percent_of_expected_facts_read_right(request, which):
    score = request.getfixturevalue(which)
    assert score.ratio() >= 0.90, [d for d in score.details][:20]


def test_the_held_out_set_keeps_its_floor(holdout_score):
    assert holdout_score.ratio() >= HOLDOUT_FLOOR, [d for d in holdout_score.details]
    # every position the held-out policies take is found
    assert holdout_score.missed.get("position", 0) == 0 and holdout_score.wrong.get("position", 0) == 0


def test_the_second_blind_set_keeps_its_floor(blind2_score):
    assert blind2_score.ratio() >= BLIND2_FLOOR, [d for d in blind2_score.details]
    # every position its policies take is found, and nothing else is read as one
    assert blind2_score.missed.get("position", 0) == 0 and blind2_score.wrong.get("position", 0) == 0


@pytest.mark.parametrize("which", SCORES)
def test_no_coverage_category_or_prior_authorization_read_wrong(request, which):
    score = request.getfixturevalue(which)
    wrong = [d for d in score.details if d[1] in ("category", "prior_auth") and d[2] == "wrong"]
    assert wrong == []


def test_the_score_counts_what_it_should(bench):
    """The scorer itself: a wrong category, a spurious prior-authorization answer and a missed code all count."""
    from fhir_ire.facts import CoverageStatement, DocumentFacts, GovernedCode, PriorAuthorization, Source
    from fhir_ire.uris import CPT

    quote = "X ablation is considered investigational for all indications."
    src = Source("d.txt", 1, 1, quote)
    doc = DocumentFacts("d.txt", "payer-policy", "T", "0" * 64, 1, [
        CoverageStatement(source=src, category="covered", text=quote),
        PriorAuthorization(source=src, required=False, text=quote),
        GovernedCode(source=src, system=CPT, code="12345", description="")])
    expected = {"d.txt": {"kind": "policy", "positions": [{"category": "investigational", "quote": quote}],
                          "codes": {"CPT": ["12345", "54321"]}}}
    score = bench.score([doc], expected, {})
    assert score.wrong["category"] == 1 and score.wrong["prior_auth"] == 1
    assert score.right["codes"] == 1 and score.missed["codes"] == 1


def test_a_build_of_every_real_document_is_valid_r4(tmp_path, shared, fhir_schema_path):
    """Seeds, real-docs and a manifest entry built together: every resource passes the R4B model and every file the
    official R4 JSON schema (ids of at most 64 characters, payer identifiers, DocumentReferences with a manifest)."""
    import shutil

    import jsonschema

    from fhir_ire.build.command import output_files
    from fhir_ire.r4 import validate

    from .conftest import AS_OF, SEEDS

    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    for p in (shared / "real-docs").glob("d*.txt"):
        shutil.copy(p, folder)
    first = sorted((shared / "real-docs").glob("d*.txt"))[0].name
    (folder / "sources.json").write_text(json.dumps({"documents": {first: {
        "payer": "Blue Cross and Blue Shield of Florida", "address": "https://example.org/p", "retrieved": "2025-05-02"}}}))
    files, _, _ = output_files(folder, None, as_of=AS_OF)
    validator = jsonschema.Draft6Validator(json.loads(fhir_schema_path.read_text()))
    for name, data in files.items():
        if "/" not in name:
            assert [e.message[:200] for e in validator.iter_errors(data)] == [], name
        if data.get("resourceType") == "Bundle":
            for entry in data["entry"]:
                validate(entry["resource"])
