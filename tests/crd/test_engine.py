"""decide() on a small synthetic index, without Flask: a rule that fails to evaluate is skipped (and logged) and
the rest of the answer stands."""

import logging

import pytest

from fhir_ire.crd.hooks import CrdEngine, decide
from fhir_ire.crd.payers import NoCoverage
from fhir_ire.store import ResourceIndex
from fhir_ire.uris import CPT, CS_USAGE_CONTEXT, DEFAULT_BASE, EXT_DETERMINATION, USAGE_CONTEXT_TYPE

from .conftest import coverage, request, service_request

CODE = "9999T"  # synthetic


def plan(pid, actions, payer=None):
    use = [{"code": {"system": USAGE_CONTEXT_TYPE, "code": "focus"},
            "valueCodeableConcept": {"coding": [{"system": CPT, "code": CODE}]}}]
    if payer:
        use.append({"code": {"system": DEFAULT_BASE + CS_USAGE_CONTEXT, "code": "payer"},
                    "valueReference": {"reference": f"Organization/{payer}"}})
    return {"resourceType": "PlanDefinition", "id": pid, "url": f"{DEFAULT_BASE}/PlanDefinition/{pid}",
            "publisher": "Synthetic Guide", "type": {"coding": [{"code": "eca-rule"}]}, "useContext": use,
            "action": actions}


def action(aid, expression, covered=None, topic="guideline"):
    a = {"id": aid, "title": f"Synthetic {aid}", "description": f"Detail {aid}", "priority": "routine",
         "code": [{"coding": [{"code": topic}]}], "trigger": [{"type": "named-event", "name": "order-sign"}],
         "condition": [{"kind": "applicability", "expression": {"language": "text/fhirpath",
                                                                "expression": expression}}]}
    if covered:
        a["extension"] = [{"url": DEFAULT_BASE + EXT_DETERMINATION, "extension": [
            {"url": "covered", "valueCode": covered}, {"url": "reason", "valueString": f"because {aid}"}]}]
    return a


def engine():
    index = ResourceIndex()
    index.add({"resourceType": "Organization", "id": "acme", "name": "Acme Synthetic Health", "alias": ["ASH"],
               "type": [{"coding": [{"code": "pay"}]}]})
    index.add(plan("acme-policy", [action("decide", "%payerId = 'acme'", covered="not-covered", topic="coverage-info")],
                   payer="acme"))
    index.add(plan("cross", [action("broken", "%noSuchVariable.exists()"), action("fine", "%hook = 'order-sign'")]))
    return CrdEngine(index, {})


def test_a_rule_that_cannot_be_evaluated_is_skipped_and_logged(caplog):
    body = request(orders=[service_request("sr-1", CODE)], cov=coverage("ASH"), version="2.2")
    with caplog.at_level(logging.WARNING, logger="fhir_ire.crd"):
        out = decide(engine(), "order-sign-crd", body, "http://x/fhir")
    assert [c["summary"] for c in out["cards"]] == ["Synthetic fine"]  # the determination is no card (resp-25)
    assert "rule cross action broken" in caplog.text and "pat-1" not in caplog.text
    covered = [e for e in out["systemActions"][0]["resource"]["extension"][0]["extension"] if e["url"] == "covered"]
    assert covered == [{"url": "covered", "valueCode": "not-covered"}]


def test_alias_matches_the_payer_and_another_payer_is_refused():
    eng = engine()
    with pytest.raises(NoCoverage, match="not a payer this CRD service handles"):
        decide(eng, "order-sign-crd", request(orders=[service_request("sr-1", CODE)], cov=coverage("Other Plan"),
                                              version="2.2"), "http://x/fhir")
    assert eng.payers.by_name("ash") == "acme"
