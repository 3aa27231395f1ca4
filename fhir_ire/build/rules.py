"""Building blocks of coverage-rule PlanDefinitions (format: docs/rules.md): FHIRPath conditions, actions, cards."""

from fhir_ire.build.context import BuildContext, citation
from fhir_ire.uris import CARD_TYPE_22, CS_USAGE_CONTEXT, EXT_DETERMINATION, FHIRPATH, PLAN_DEFINITION_TYPE, \
    USAGE_CONTEXT_TYPE

HOOKS = ("order-sign", "order-select", "order-dispatch", "appointment-book")
PRIORITY = {"info": "routine", "warning": "urgent", "critical": "stat"}
SUMMARY_MAX = 139


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def has_code(var: str, system: str, codes) -> str:
    """FHIRPath: the Codings in var include one of codes (exact)."""
    test = " or ".join(f"code = {quote(c)}" for c in sorted(codes))
    return f"{var}.where(system = {quote(system)} and ({test})).exists()"


def starts_with(var: str, system: str, prefixes) -> str:
    """FHIRPath filter: Codings in var whose code starts with a prefix (ICD-10-CM families are prefix-based)."""
    test = " or ".join(f"code.startsWith({quote(p)})" for p in sorted(prefixes))
    return f"{var}.where(system = {quote(system)} and ({test}))"


def one_of(var: str, values) -> str:
    test = " or ".join(f"$this = {quote(v)}" for v in sorted(values))
    return f"{var}.where({test}).exists()"


def summary(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def action(ctx: BuildContext, aid: str, title: str, description: str, topic: str, indicator: str,
           conditions: list[str], sources: list, determination: list[tuple[str, str]] | None = None,
           hooks=HOOKS, remove: str | None = None) -> dict:
    act = {"id": aid, "title": summary(title), "description": description,
           "code": [{"coding": [{"system": CARD_TYPE_22, "code": topic}]}], "priority": PRIORITY[indicator],
           "trigger": [{"type": "named-event", "name": h} for h in hooks],
           "condition": [{"kind": "applicability", "expression": {"language": FHIRPATH, "expression": c}}
                         for c in conditions],
           "documentation": [citation(ctx, s) for s in sources], "_sources": list(sources)}
    if determination:
        act["extension"] = [{"url": ctx.base + EXT_DETERMINATION, "extension": [
            {"url": name, "valueCode" if name not in ("reason", "requirement") else "valueString": value}
            for name, value in determination]}]
    if remove:
        act["action"] = [{"id": aid + "-remove", "title": "Remove the conflicting order",
                          "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/action-type",
                                               "code": "remove"}]},
                          "dynamicValue": [{"path": "resourceId",
                                            "expression": {"language": FHIRPATH, "expression": remove}}]}]
    return act


def plan_definition(ctx: BuildContext, rid: str, title: str, description: str, publisher: str, focus: list[dict],
                    actions: list[dict], payer: dict | None = None, lines: list[dict] | None = None,
                    effective: str | None = None, documents: list[str] = (), number: str | None = None) -> dict:
    use = [{"code": {"system": USAGE_CONTEXT_TYPE, "code": "focus"}, "valueCodeableConcept": {"coding": focus}}]
    if payer:
        use.append({"code": {"system": ctx.base + CS_USAGE_CONTEXT, "code": "payer"},
                    "valueReference": {"reference": f"Organization/{payer['id']}", "display": payer["name"]}})
    if lines:
        use.append({"code": {"system": ctx.base + CS_USAGE_CONTEXT, "code": "line-of-business"},
                    "valueCodeableConcept": {"coding": [{"system": ctx.base + "/CodeSystem/line-of-business", **line}
                                                        for line in lines]}})
    pd = {"resourceType": "PlanDefinition", "id": rid, "url": ctx.url("PlanDefinition", rid),
          "name": "".join(w.capitalize() for w in rid.split("-"))[:60], "title": title,
          "type": {"coding": [{"system": PLAN_DEFINITION_TYPE, "code": "eca-rule"}]}, "status": "active",
          "experimental": False, "publisher": publisher, "description": description, "useContext": use}
    if number:  # the payer's policy number, as the document states it
        pd["identifier"] = [{"use": "official", "type": {"text": "Policy number"}, "value": number}]
    if effective:
        pd["effectivePeriod"] = {"start": effective}
    pd["relatedArtifact"] = [{"type": "documentation", "display": ctx.doc(f).title,
                              "document": {"url": f"DocumentReference/{ctx.doc_id(f)}", "title": ctx.doc(f).title,
                                           "contentType": "text/plain"}} for f in documents]
    pd["action"] = actions
    ctx.cite(pd, *[s for a in actions for s in _action_sources(a)])
    return pd


def _action_sources(act: dict):
    return act.pop("_sources", [])
