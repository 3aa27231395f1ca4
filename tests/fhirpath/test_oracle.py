"""Every condition and removal expression of every rule, compiled, gives fhirpathpy's answer on every recorded
hook request (and on variants of them that make payer and code tests true)."""

import importlib.util
import random
from datetime import date

import pytest

from fhir_ire.build.command import output_files
from fhir_ire.crd.rules import RuleIndex
from fhir_ire.store import ResourceIndex, load_bundles

from .oracle import ROOT, hook_variables, oracle, outcome, recorded_requests


def variants(rules: RuleIndex, envs: list[dict], extra: int, seed: int = 10) -> list[dict]:
    """The recorded variables, then the same with each payer and with ordered codes the rules govern, so that
    payer and code tests come out true as well as false."""
    rng = random.Random(seed)
    payers, codes = sorted(rules.payers), sorted(rules.by_code)
    out = list(envs)
    for env in envs:
        out += [{**env, "payerId": [p]} for p in payers[:4]]
    for _ in range(extra):
        env = rng.choice(envs)
        ordered = [{"system": s, "code": c} for s, c in rng.sample(codes, min(len(codes), rng.randint(1, 2)))]
        out.append({**env, "payerId": [rng.choice(payers)] if payers else [], "orderCodes": ordered,
                    "draftCodes": env["draftCodes"] + [{"system": s, "code": c} for s, c in rng.sample(codes, 1)]})
    for env in envs[:extra // 4]:  # codings and conditions not plainly shaped: the closures' general path
        s, c = rng.choice(codes)
        out.append({**env, "orderCodes": env["orderCodes"] + [{"system": s, "code": c, "_code": {"id": "x"}}],
                    "reasonCodes": env["reasonCodes"] + [{"system": s, "code": {"text": c}}]})
        out.append({**env, "orderCodes": [{"system": s, "code": c}, {"system": [s], "code": c}],
                    "draftCodes": env["draftCodes"] + [{"system": s, "code": [c, c]}], "conditions": [
                        *env["conditions"], {"resourceType": "Condition", "clinicalStatus": {"coding": [
                            {"code": ["active"]}]}, "code": {"coding": [{"system": s, "code": c, "_code": {}}]}}]})
    return out


def disagreements(rules: RuleIndex, envs: list[dict]) -> tuple[list, int, int]:
    """(expressions whose compiled answer differs from fhirpathpy's, evaluations, true answers)."""
    bad, count, true = [], 0, 0
    for text, expression in sorted(rules.expressions.items()):
        for n, env in enumerate(envs):
            mine, theirs = outcome(expression, env), oracle(text, env)
            count += 1
            true += mine == [True]
            if mine != theirs:
                bad.append((text[:120], n, mine, theirs))
                break
    return bad, count, true


@pytest.fixture(scope="module")
def committed():
    rules = RuleIndex(load_bundles(ROOT / "bundles"))
    envs = [env for request in recorded_requests() for env in hook_variables(request, None)]
    return rules, variants(rules, envs, extra=60)


def test_the_recorded_requests_give_variables_for_every_hook(committed):
    _, envs = committed
    assert {e["hook"] for e in envs} == {"order-sign", "order-select", "order-dispatch", "appointment-book"}


def test_every_committed_rule_expression_is_compiled(committed):
    rules, _ = committed
    assert rules.expressions and [t for t, e in rules.expressions.items() if not e.native] == []


def test_compiled_committed_rules_agree_with_fhirpathpy(committed):
    rules, envs = committed
    bad, count, true = disagreements(rules, envs)
    assert bad == []
    assert count >= len(rules.expressions) * len(envs) and 0 < true < count


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The seeds and 240 generated mixed documents (benchmarks/corpus.py), built: a large rule set."""
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "benchmarks" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    seeds = tmp_path_factory.mktemp("generated")
    corpus.generate(seeds, 240, with_seeds=True)
    files, _, _ = output_files(seeds, None, as_of=date(2026, 1, 15))
    index = ResourceIndex()
    for name, bundle in files.items():
        if "/" not in name and bundle.get("resourceType") == "Bundle":
            for entry in bundle["entry"]:
                index.add(entry["resource"])
    rules = RuleIndex(index)
    envs = [env for request in recorded_requests() for env in hook_variables(request, None)]
    return rules, variants(rules, envs, extra=40)


def test_compiled_generated_rules_agree_with_fhirpathpy(generated):
    rules, envs = generated
    assert rules.count >= 80 and len(rules.expressions) >= 150
    assert [t for t, e in rules.expressions.items() if not e.native] == []
    bad, count, true = disagreements(rules, envs)
    assert bad == []
    assert 0 < true < count
