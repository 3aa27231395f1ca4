"""Every FHIRPath expression a rule carries is evaluated by the build on a sample request, by fhirpathpy (the
reference engine) and by the compiled closures the server uses; one that fails or on which they disagree stops
the build, so that a rule that cannot be evaluated is never found at request time."""

import re

import fhirpathpy

from fhir_ire.errors import BuildError
from fhir_ire.fhirpath import Expression
from fhir_ire.uris import ICD10CM

STRING = re.compile(r"'(?:[^'\\]|\\.)*'")


def expressions_of(pd: dict):
    """(action id, expression text) of every applicability condition and removal expression."""
    for act in pd.get("action") or []:
        for c in act.get("condition") or []:
            yield act.get("id"), c["expression"]["expression"]
        for sub in act.get("action") or []:
            for dv in sub.get("dynamicValue") or []:
                yield act.get("id"), dv["expression"]["expression"]


def sample_variables(pd: dict) -> dict:
    """The variables docs/rules.md lists, filled from the rule itself (its codes, its payer), shaped as the engine
    supplies them, so that every branch of a condition has data to read."""
    focus = [c for use in pd.get("useContext") or [] if use["code"]["code"] == "focus"
             for c in use["valueCodeableConcept"]["coding"]]
    payer = next((use["valueReference"]["reference"].split("/", 1)[1] for use in pd.get("useContext") or []
                  if use["code"]["code"] == "payer"), "sample-payer")
    order = {"resourceType": "ServiceRequest", "id": "sample-order", "status": "draft", "intent": "order",
             "code": {"coding": focus[:1]}, "reasonCode": [{"coding": [{"system": ICD10CM, "code": "C25.0"}]}]}
    other = {**order, "id": "sample-other", "code": {"coding": focus[-1:]}}
    coverage = {"resourceType": "Coverage", "id": "sample-coverage", "status": "active", "payor": [{"display": payer}]}
    condition = {"resourceType": "Condition", "id": "sample-condition",
                 "clinicalStatus": {"coding": [{"code": "active"}]},
                 "code": {"coding": [{"system": ICD10CM, "code": "G40.909"}]}}
    return {"order": order, "orderCodes": focus[:1], "reasonCodes": order["reasonCode"][0]["coding"],
            "coverage": [coverage], "payer": [{"resourceType": "Organization", "name": payer}], "payerId": [payer],
            "linesOfBusiness": ["medicare"], "conditions": [condition], "draftOrders": [other],
            "draftCodes": focus[-1:], "hook": "order-sign"}


def shape(text: str) -> str:
    """The expression with its string literals blanked: two texts of one shape nest and evaluate alike."""
    return STRING.sub("''", text)


def check_evaluable(pd: dict, checked: dict) -> None:
    """Raise BuildError naming the rule and action when an expression cannot be evaluated. The compiled closures
    evaluate every text; fhirpathpy (slow to parse) every shape once: `checked` remembers the shapes seen (rules of
    10,000 policies differ by payer id and codes, not by shape)."""
    env = None
    for aid, text in expressions_of(pd):
        env = env or sample_variables(pd)
        try:
            compiled = Expression(text)({}, env)
            reference = None if shape(text) in checked else fhirpathpy.evaluate({}, text, env)
        except Exception as e:  # noqa: BLE001 - whatever the engine raises (RecursionError too), the rule is unusable
            raise BuildError(f"rule {pd['id']} action {aid}: a FHIRPath expression cannot be evaluated "
                             f"({type(e).__name__}): {text[:200]}") from None
        if reference is not None and _plain(reference) != _plain(compiled):
            raise BuildError(f"rule {pd['id']} action {aid}: the compiled FHIRPath disagrees with fhirpathpy on a "
                             f"sample request: {text[:200]}")
        checked[shape(text)] = True


def _plain(values: list) -> list:
    return [v.get("id") if isinstance(v, dict) else v for v in values]
