"""Rule conditions are set membership, never long `or` chains; every expression the build writes is evaluated on a
sample request, and one that cannot be evaluated stops the build; content shared by many codes is written once."""

import re

import fhirpathpy
import pytest

from fhir_ire.build.evaluable import check_evaluable, expressions_of
from fhir_ire.build.rules import has_code, literal_set, starts_with
from fhir_ire.errors import BuildError
from fhir_ire.fhirpath import Expression
from fhir_ire.uris import CPT, ICD10CM

CODES = [f"0{n:03d}T" for n in range(1000)]  # shaped like Category III codes, synthetic


def plan(expression):
    return {"id": "synthetic", "useContext": [{"code": {"code": "focus"},
                                               "valueCodeableConcept": {"coding": [{"system": CPT, "code": "0999T"}]}}],
            "action": [{"id": "only", "condition": [{"expression": {"expression": expression}}]}]}


def test_a_thousand_codes_are_one_literal_collection_that_fhirpathpy_evaluates():
    text = has_code("%orderCodes", CPT, CODES)
    assert " or " not in text and text.count("(") < 100
    for code, expected in (("0999T", [True]), ("9999T", [False])):
        env = {"orderCodes": [{"system": CPT, "code": code}]}
        assert fhirpathpy.evaluate({}, text, env) == expected == Expression(text)({}, env)


def test_prefix_families_are_one_membership_per_prefix_length():
    text = starts_with("%reasonCodes", ICD10CM, ["G40", "I21", "Z95.0", "Z95.810", "C78.00"]) + ".exists()"
    assert text.count(" or ") == 3 and "substring(0, 3) in ('G40' | 'I21')" in text
    for code, expected in (("G40.909", True), ("Z95.810", True), ("Z95.1", False), ("G4", False)):
        env = {"reasonCodes": [{"system": ICD10CM, "code": code}]}
        assert fhirpathpy.evaluate({}, text, env) == [expected] == Expression(text)({}, env)


def test_literal_set_nests_groups_of_sixteen():
    assert literal_set(["b", "a"]) == "('a' | 'b')" and literal_set(["a"]) == "('a')"
    assert max(len(g.split(" | ")) for g in re.findall(r"\(([^()]*)\)", literal_set(CODES))) == 16


def test_an_expression_that_cannot_be_evaluated_stops_the_build():
    flat = "%orderCodes.where(" + " or ".join(f"code = '{c}'" for c in CODES[:400]) + ").exists()"
    with pytest.raises(BuildError, match="rule synthetic action only: a FHIRPath expression cannot be evaluated"):
        check_evaluable(plan(flat), {})
    with pytest.raises(BuildError, match="cannot be evaluated"):
        check_evaluable(plan("%noSuchVariable = 'x'"), {})
    check_evaluable(plan(has_code("%orderCodes", CPT, CODES)), {})


def test_built_rules_have_no_or_chains(seed_resources):
    """`or` only joins a handful of tests (code systems, ICD-10-CM prefix lengths), never one test per code."""
    rules = [r for r in seed_resources if r["resourceType"] == "PlanDefinition"]
    texts = [text for r in rules for _, text in expressions_of(r)]
    assert texts and max(t.count(" or ") for t in texts) <= 8 and not any("or code =" in t for t in texts)


def test_category_iii_guidance_is_one_action_for_all_codes(seed_resources):
    pd = next(r for r in seed_resources if r["id"] == "category-iii-guidance")
    (act,) = pd["action"]
    focus = {c["code"] for u in pd["useContext"] if u["code"]["code"] == "focus" for c in u["valueCodeableConcept"]["coding"]}
    env = {"orderCodes": [{"system": CPT, "code": sorted(focus)[0]}]}
    assert len(focus) >= 2 and Expression(act["condition"][0]["expression"]["expression"])({}, env) == [True]


def test_fhirpathpy_checks_each_shape_once_the_closures_every_text(monkeypatch):
    calls = []
    real = fhirpathpy.evaluate
    monkeypatch.setattr("fhir_ire.build.evaluable.fhirpathpy.evaluate", lambda *a: calls.append(a[1]) or real(*a))
    checked = {}
    for payer in ("alpha", "beta", "gamma"):
        check_evaluable(plan(f"%payerId = '{payer}' and " + has_code("%orderCodes", CPT, ["0998T", "0999T"])), checked)
    assert len(calls) == 1 and len(checked) == 1
