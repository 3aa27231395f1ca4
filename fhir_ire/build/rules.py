"""Building blocks of coverage-rule PlanDefinitions (format: docs/rules.md): FHIRPath conditions, actions, cards."""

from collections import defaultdict

from fhir_ire.build.context import BuildContext, citation
from fhir_ire.build.evaluable import check_evaluable
from fhir_ire.uris import CARD_TYPE_22, CS_USAGE_CONTEXT, EXT_DETERMINATION, FHIRPATH, PLAN_DEFINITION_TYPE, \
    USAGE_CONTEXT_TYPE

HOOKS = ("order-sign", "order-select", "order-dispatch", "appointment-book")
PRIORITY = {"info": "routine", "warning": "urgent", "critical": "stat"}
SUMMARY_MAX = 139
GROUP = 16  # items per parenthesised group of a literal collection
LISTED = 12  # statements a card lists when many documents contribute them; Provenance keeps every source
CITED = 10  # citations an action carries (cross-document rules cite many); Provenance lists every source


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def literal_set(values) -> str:
    """A FHIRPath literal collection ('a' | 'b' | ...). Long ones are grouped in nested parentheses of at most
    GROUP items, so that an engine evaluating `|` recursively goes log(n) deep, never n deep."""
    items = [quote(v) for v in sorted(set(values))]
    while len(items) > 1:
        items = ["(" + " | ".join(items[i:i + GROUP]) + ")" for i in range(0, len(items), GROUP)]
    return items[0] if items[0].startswith("(") else f"({items[0]})"


def is_in(subject: str, values) -> str:
    """FHIRPath: subject is one of values (set membership; equality for a single value)."""
    values = sorted(set(values))
    return f"{subject} = {quote(values[0])}" if len(values) == 1 else f"{subject} in {literal_set(values)}"


def has_code(var: str, system: str, codes) -> str:
    """FHIRPath: the Codings in var include one of codes (exact)."""
    return f"{var}.where(system = {quote(system)} and {is_in('code', codes)}).exists()"


def starts_with(var: str, system: str, prefixes) -> str:
    """FHIRPath filter: Codings in var whose code starts with a prefix (ICD-10-CM families are prefix-based), as one
    set membership per prefix length."""
    by_length = defaultdict(set)
    for p in prefixes:
        by_length[len(p)].add(p)
    tests = [is_in(f"code.substring(0, {n})", by_length[n]) for n in sorted(by_length)]
    test = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
    return f"{var}.where(system = {quote(system)} and {test})"


def one_of(var: str, values) -> str:
    return f"{var}.where({is_in('$this', values)}).exists()"


def distinct_statements(statements: list, limit: int) -> tuple[list, int]:
    """The first `limit` statements with distinct texts (many documents repeat the same sentence), and how many
    distinct ones were left out: a card quotes a few, Provenance keeps every source."""
    seen, out = set(), []
    for s in statements:
        key = " ".join(s.text.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out[:limit], max(0, len(out) - limit)


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
           "documentation": [citation(ctx, s) for s in list(dict.fromkeys(sources))[:CITED]],
           "_sources": list(sources)}
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
    check_evaluable(pd, ctx.evaluated)
    return pd


def _action_sources(act: dict):
    return act.pop("_sources", [])
