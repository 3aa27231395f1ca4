"""The action index: a request only looks at the actions indexed under its ordered codes, for its payer or
cross-payer; conditions are compiled once per distinct text; an unreadable condition stops the load."""

import pytest

from fhir_ire.crd.rules import RuleIndex
from fhir_ire.errors import BundleError
from fhir_ire.store import ResourceIndex
from fhir_ire.uris import CPT, CS_USAGE_CONTEXT, DEFAULT_BASE, USAGE_CONTEXT_TYPE

CODES = ["9991T", "9992T", "9993T"]  # synthetic


def plan(pid, actions, codes=CODES, payer=None):
    use = [{"code": {"system": USAGE_CONTEXT_TYPE, "code": "focus"},
            "valueCodeableConcept": {"coding": [{"system": CPT, "code": c} for c in codes]}}]
    if payer:
        use.append({"code": {"system": DEFAULT_BASE + CS_USAGE_CONTEXT, "code": "payer"},
                    "valueReference": {"reference": f"Organization/{payer}"}})
    return {"resourceType": "PlanDefinition", "id": pid, "publisher": "Synthetic", "useContext": use,
            "type": {"coding": [{"code": "eca-rule"}]}, "action": actions}


def action(aid, *conditions):
    return {"id": aid, "condition": [{"kind": "applicability", "expression": {"language": "text/fhirpath",
                                                                              "expression": c}} for c in conditions]}


def ordered(*codes):
    return f"%orderCodes.where(system = '{CPT}' and code in ({' | '.join(repr(c) for c in codes)})).exists()"


def rules(*plans):
    index = ResourceIndex()
    for pid in ("acme", "zenith"):
        index.add({"resourceType": "Organization", "id": pid, "name": pid.title(), "type": [{"coding": [{"code": "pay"}]}]})
    for p in plans:
        index.add(p)
    return RuleIndex(index)


def ids(actions):
    return [a.raw["id"] for a in actions]


def cpt(*codes):
    return [{"system": CPT, "code": c} for c in codes]


def test_a_per_code_action_is_only_looked_at_when_its_code_is_ordered():
    index = rules(plan("guide", [action(f"about-{c}", ordered(c)) for c in CODES]))
    assert ids(index.actions_for(cpt("9992T"), None)) == ["about-9992T"]
    assert ids(index.actions_for(cpt("9993T", "9991T"), "acme")) == ["about-9991T", "about-9993T"]
    assert index.actions_for(cpt("0000T"), None) == []


def test_other_payers_actions_are_never_looked_at():
    index = rules(plan("acme-policy", [action("acme", "%payerId = 'acme'", ordered(*CODES))], payer="acme"),
                  plan("zenith-in-cross", [action("zenith", ordered("9991T"), "%payerId = 'zenith'")]),
                  plan("cross", [action("all", ordered(*CODES))]))
    assert ids(index.actions_for(cpt("9991T"), "acme")) == ["acme", "all"]
    assert ids(index.actions_for(cpt("9991T"), "zenith")) == ["zenith", "all"]
    assert ids(index.actions_for(cpt("9991T"), None)) == ["all"]


def test_payer_actions_come_before_cross_payer_ones_in_bundle_order():
    index = rules(plan("cross", [action("cross-1", ordered("9991T")), action("cross-2", ordered("9991T"))]),
                  plan("acme-policy", [action("acme", ordered("9991T"))], payer="acme"))
    assert ids(index.actions_for(cpt("9991T"), "acme")) == ["acme", "cross-1", "cross-2"]


def test_an_action_whose_codes_cannot_be_read_is_indexed_under_all_the_rule_codes():
    index = rules(plan("guide", [action("any", "%orderCodes.where(code.startsWith('999')).exists()"),
                                 action("outside", ordered("9991T", "1234T"))]))
    for code in CODES:
        assert ids(index.actions_for(cpt(code), None)) == ["any", "outside"]


def test_each_distinct_condition_is_compiled_once():
    index = rules(plan("a", [action("x", ordered("9991T"))]), plan("b", [action("y", ordered("9991T"))]))
    (x,), (y,) = (index.actions_for(cpt("9991T"), None)[i].conditions for i in range(2))
    assert x is y and len(index.expressions) == 1


def test_an_unreadable_condition_stops_the_load_naming_the_rule_and_expression():
    with pytest.raises(BundleError, match=r"^PlanDefinition/guide action bad: the FHIRPath expression "
                                          r"'%orderCodes\.where\(' does not compile: not valid FHIRPath at 1:18"):
        rules(plan("guide", [action("bad", "%orderCodes.where(")]))


def test_the_conditions_the_index_reads_are_tested_last():
    index = rules(plan("p", [action("x", "%payerId = 'acme'", ordered("9991T"), "%reasonCodes.exists()",
                                    "%draftCodes.empty()")], payer="acme"))
    (x,) = index.actions_for(cpt("9991T"), "acme")
    order = [next(c.text for c in x.conditions if c.bound({})[0] is fn) for fn, _ in x.tests]
    assert order == ["%reasonCodes.exists()", "%draftCodes.empty()", "%payerId = 'acme'", ordered("9991T")]


@pytest.mark.parametrize("reasons", [[], [{"code": "C25.0"}]], ids=["no reason", "a reason"])
def test_an_action_applies_whatever_the_order_its_conditions_are_tested_in(reasons):
    from fhir_ire.crd.hooks import _applies
    index = rules(plan("p", [action("x", ordered("9991T"), "%reasonCodes.exists()"),
                             action("y", ordered("9991T"), "%reasonCodes.code = 'C25.0'")]))
    env = {"orderCodes": cpt("9991T"), "reasonCodes": reasons}
    for act in index.actions_for(cpt("9991T"), None):
        written = all(c({}, env) == [True] for c in act.conditions)  # each condition in the order written
        assert _applies(act, "order-sign", env) is written is bool(reasons)
