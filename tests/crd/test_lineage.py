"""The payer lineage index (Organization.partOf, read at load) and the rule index over it: a payer's own actions,
then its ancestors' (nearest first, evaluated as the ancestor's policy), then cross-payer ones; never a sibling's;
a payer with no parent exactly as before; cycles and deep lines refused at load with one line."""

import json
import subprocess
import sys

import fhirpathpy
import pytest

from fhir_ire.build import payers as build_payers
from fhir_ire.crd.hooks import CrdEngine, decide
from fhir_ire.crd.lineage import MAX_DEPTH, ancestry
from fhir_ire.crd.rules import RuleIndex
from fhir_ire.errors import BuildError, BundleError
from fhir_ire.store import ResourceIndex

from ..conftest import ROOT, free_port
from .conftest import coverage, request, service_request
from .test_engine import CODE
from .test_engine import action as synthetic_action
from .test_engine import plan as synthetic_plan
from .test_rule_index import action, cpt, ids, ordered, plan


def org(pid, parent=None, payer=True):
    o = {"resourceType": "Organization", "id": pid, "name": pid.replace("-", " ").title()}
    if payer:
        o["type"] = [{"coding": [{"code": "pay"}]}]
    if parent:
        o["partOf"] = {"reference": f"Organization/{parent}"}
    return o


# a brand with two regional plans (one with a plan of its own), a program with a contractor, a payer on its own
FAMILY = [org("brand"), org("north", "brand"), org("south", "brand"), org("north-local", "north"),
          org("program"), org("contractor", "program"), org("alone")]


def index_of(orgs, *plans) -> RuleIndex:
    index = ResourceIndex()
    for r in [*orgs, *plans]:
        index.add(r)
    return RuleIndex(index)


def policy(payer, aid, *codes):
    return plan(f"{payer}-policy-{aid}", [action(aid, f"%payerId = '{payer}'", ordered(*codes))], payer=payer)


def test_ancestors_are_read_from_part_of_nearest_first():
    line = ancestry({o["id"]: o for o in FAMILY})
    assert line == {"north": ("brand",), "south": ("brand",), "north-local": ("north", "brand"),
                    "contractor": ("program",)}


def test_a_part_of_naming_no_loaded_payer_ends_the_line():
    orgs = {o["id"]: o for o in [org("plan", "holding"), org("holding", "brand", payer=False), org("brand"),
                                 org("other", "missing")]}
    assert ancestry({k: v for k, v in orgs.items() if "type" in v}) == {}


def test_absolute_and_versioned_part_of_references_are_read():
    a = org("a")
    b = {**org("b"), "partOf": {"reference": "https://payer.example/fhir/Organization/a/_history/3"}}
    assert ancestry({"a": a, "b": b}) == {"b": ("a",)}


def test_a_cycle_is_refused_at_load_with_one_line():
    orgs = [org("a", "c"), org("b", "a"), org("c", "b")]
    with pytest.raises(BundleError, match=r"^Organization/a: its partOf makes a cycle \(a -> c -> b -> a\)$"):
        index_of(orgs)


def test_a_payer_part_of_itself_is_a_cycle():
    with pytest.raises(BundleError, match=r"^Organization/a: its partOf makes a cycle \(a -> a\)$"):
        index_of([org("a", "a")])


def test_a_line_deeper_than_the_bound_is_refused_at_load():
    chain = [org("p0")] + [org(f"p{n}", f"p{n - 1}") for n in range(1, MAX_DEPTH + 2)]
    with pytest.raises(BundleError, match=rf"^Organization/p{MAX_DEPTH + 1}: its partOf line is deeper than "
                                          rf"{MAX_DEPTH} payers \(p{MAX_DEPTH + 1} -> "):
        index_of(chain)
    assert index_of(chain[:-1]).lineage[f"p{MAX_DEPTH}"][-1] == "p0"  # the bound itself is accepted


def test_a_plan_gets_its_own_then_its_ancestors_then_cross_payer_actions():
    index = index_of(FAMILY, plan("cross", [action("all", ordered("9991T"))]), policy("brand", "b", "9991T"),
                     policy("north", "n", "9991T"), policy("north-local", "nl", "9991T"))
    assert ids(index.actions_for(cpt("9991T"), "north-local")) == ["nl", "n", "b", "all"]
    assert [a.rank[0] for a in index.actions_for(cpt("9991T"), "north-local")][:3] == [0, 1, 2]
    assert ids(index.actions_for(cpt("9991T"), "north")) == ["n", "b", "all"]


def test_a_sibling_or_a_descendant_is_never_looked_at():
    index = index_of(FAMILY, policy("north", "n", "9991T"), policy("contractor", "lcd", "9991T"))
    assert ids(index.actions_for(cpt("9991T"), "south")) == []  # a sibling's
    assert ids(index.actions_for(cpt("9991T"), "brand")) == []  # a regional plan's, for the brand's members
    assert ids(index.actions_for(cpt("9991T"), "program")) == []  # a contractor's, for the program's members


def test_only_an_ancestor_with_actions_for_the_ordered_code_is_looked_at():
    index = index_of(FAMILY, policy("brand", "b", "9992T"), policy("north", "n", "9991T"))
    assert ids(index.actions_for(cpt("9991T"), "north-local")) == ["n"]
    assert ids(index.actions_for(cpt("9992T"), "north-local")) == ["b"]
    assert ids(index.actions_for(cpt("9992T", "9991T"), "north-local")) == ["n", "b"]  # nearer first


def test_a_payer_with_no_parent_gets_exactly_what_it_got_without_lineage():
    plans = [plan("cross", [action("all", ordered("9991T"))]), policy("alone", "a", "9991T"),
             policy("brand", "b", "9991T")]
    flat = index_of([{k: v for k, v in o.items() if k != "partOf"} for o in FAMILY], *plans)
    family = index_of(FAMILY, *plans)
    for payer in ("alone", "brand", None):
        got, before = family.actions_for(cpt("9991T"), payer), flat.actions_for(cpt("9991T"), payer)
        assert ids(got) == ids(before)
        assert all(a.payer in (payer, None) for a in got)  # its own and cross-payer actions, never a view
    assert family.views == {}


def test_an_ancestors_action_is_evaluated_as_that_ancestors_policy_as_fhirpathpy_does():
    index = index_of(FAMILY, policy("brand", "b", "9991T"))
    view = index.actions_for(cpt("9991T"), "north-local")[0]
    env = {"payerId": ["north-local"], "payer": [org("north-local")], "orderCodes": cpt("9991T")}
    assert all(fn(focus, env) == [True] for fn, focus in view.tests)
    for condition in view.conditions:  # the rule's FHIRPath, unchanged, with the ancestor as the payer applying
        assert fhirpathpy.evaluate({}, condition.text, {**env, "payerId": ["brand"], "payer": [org("brand")]}) \
            == [True]
        assert fhirpathpy.evaluate({}, condition.text, env) in ([False], [True])
    original = index.actions_for(cpt("9991T"), "brand")[0]
    assert not all(fn(focus, env) == [True] for fn, focus in original.tests)  # the action itself is untouched


def test_an_inherited_action_says_whose_policy_it_is_and_keeps_the_rule():
    det = {"url": "http://fhir-ire.org/fhir/StructureDefinition/coverage-determination",
           "extension": [{"url": "covered", "valueCode": "not-covered"}, {"url": "reason", "valueString": "Why."}]}
    act = {**action("b", "%payerId = 'brand'", ordered("9991T")), "extension": [det], "description": "Text."}
    index = index_of(FAMILY, plan("brand-policy", [act], payer="brand"))
    view = index.actions_for(cpt("9991T"), "north")[0]
    original = index.actions_for(cpt("9991T"), "brand")[0]
    assert view.determination == {"covered": "not-covered", "reason": "Why. (North is part of Brand: Brand's "
                                                                      "policy applies.)"}
    assert original.determination["reason"] == "Why."
    assert view.card_text[1].startswith("*North is part of Brand: Brand's policy applies.*\n\nText.")
    assert view.rule is original.rule and view.raw is original.raw and view.links is original.links
    assert index.actions_for(cpt("9991T"), "north")[0] is view  # one view per payer and action, kept


class Directory:
    """A payer directory of a few entries (the build's view of data/payers.json)."""

    def __init__(self, *entries):
        self.entries = {e["name"]: e for e in entries}

    def lookup(self, name):
        return self.entries.get(name)


def payers_of(*names, directory):
    return {n.lower(): {"id": n.lower(), "name": n, "aliases": {}, "sources": {}, "policies": {},
                        "entry": directory.lookup(n)} for n in names}


def test_the_build_publishes_every_payer_of_a_line(monkeypatch):
    d = Directory({"name": "Plan", "parent": "Brand", "aliases": []}, {"name": "Brand", "parent": "Holding",
                                                                         "aliases": []},
                  {"name": "Holding", "aliases": []})
    monkeypatch.setattr(build_payers, "directory", lambda: d)
    payers = payers_of("Plan", directory=d)
    build_payers._add_parents(payers)
    assert {p["id"]: p.get("parent") for p in payers.values()} == {"plan": "brand", "brand": "holding",
                                                                   "holding": None}


def test_the_build_refuses_a_directory_whose_parents_make_a_cycle(monkeypatch):
    d = Directory({"name": "Plan", "parent": "Brand", "aliases": []}, {"name": "Brand", "parent": "Plan",
                                                                         "aliases": []})
    monkeypatch.setattr(build_payers, "directory", lambda: d)
    with pytest.raises(BuildError, match=r"payer directory: the parents of Plan make a cycle or a line deeper than "
                                         r"4 \(Plan -> Brand -> Plan\)"):
        build_payers._add_parents(payers_of("Plan", directory=d))


def engine_of(*plans):
    index = ResourceIndex()
    for r in [*FAMILY, *plans]:
        index.add(r)
    return CrdEngine(index, {})


def covered(out) -> list:
    return [e["valueCode"] for e in out["systemActions"][0]["resource"]["extension"][0]["extension"]
            if e["url"] == "covered"]


def test_a_nearer_policy_that_does_not_apply_to_the_order_leaves_the_ancestors_to_decide():
    """The plan's policy is for orders with a diagnosis (say, another line of business): for this one the brand's
    decides; for an order it applies to, the plan's outranks the brand's."""
    eng = engine_of(synthetic_plan("north-policy", [synthetic_action("own", "%payerId = 'north' and "
                                                                     "%reasonCodes.exists()", covered="covered")],
                                   payer="north"),
                    synthetic_plan("brand-policy", [synthetic_action("brand", "%payerId = 'brand'",
                                                                     covered="not-covered")], payer="brand"))
    plain = request(orders=[service_request("sr-1", CODE)], cov=coverage("North"), version="2.2")
    assert covered(decide(eng, "order-sign-crd", plain, "http://x/fhir")) == ["not-covered"]
    with_dx = request(orders=[service_request("sr-1", CODE, dx="C25.0")], cov=coverage("North"), version="2.2")
    assert covered(decide(eng, "order-sign-crd", with_dx, "http://x/fhir")) == ["covered"]


def test_an_ancestors_card_keeps_the_insurer_as_its_label_and_says_whose_policy_it_is():
    eng = engine_of(synthetic_plan("brand-guide", [synthetic_action("guide", "%payerId = 'brand'")], payer="brand"))
    out = decide(eng, "order-sign-crd", request(orders=[service_request("sr-1", CODE)], cov=coverage("North Local"),
                                                version="2.2"), "http://x/fhir")
    (card,) = out["cards"]
    assert card["source"]["label"] == "North Local"  # the insurer on the patient's card (CRD resp-4)
    assert card["summary"] == "Synthetic guide"
    assert card["detail"].startswith("*North Local is part of Brand: Brand's policy applies.*")


@pytest.mark.integration
def test_serve_refuses_a_part_of_cycle_at_start_with_one_line(tmp_path):
    orgs = [org("a", "b"), org("b", "a")]
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": o, "request": {"method": "PUT", "url": f"Organization/{o['id']}"}} for o in orgs]}
    (tmp_path / "01-payers.json").write_text(json.dumps(bundle))
    run = subprocess.run([sys.executable, "-m", "fhir_ire.cli", "serve", "--bundles", str(tmp_path), "--port",
                          str(free_port())], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 1
    assert run.stderr == "fhir-ire serve: error: Organization/a: its partOf makes a cycle (a -> b -> a)\n"
