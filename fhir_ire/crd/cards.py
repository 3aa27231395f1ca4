"""CDS Hooks cards from rule actions, payment benchmarks and the things a call could not check."""

from functools import lru_cache

from fhir_ire.citations import cited_page
from fhir_ire.ids import new_uuid
from fhir_ire.uris import CARD_TYPE_201, CARD_TYPE_22

INDICATOR = {"routine": "info", "urgent": "warning", "stat": "critical"}
MAX_BASES = 8  # FHIR bases whose links an action keeps (one per Host header the server is reached by, unless
#               --base-url fixes it): a few in practice, bounded against clients that send many


@lru_cache(maxsize=256)  # card topics are the rules' and a few of ours: shared by every card (read only)
def _topic(code: str, old: bool) -> dict:
    return {"system": CARD_TYPE_201 if old else CARD_TYPE_22, "code": code, "display": code.replace("-", " ")}


def _summary(text: str) -> str:
    return text if len(text) < 140 else text[:138].rstrip() + "…"


def card(summary: str, detail: str, indicator: str, label: str, topic: str, old: bool, order: dict | None = None,
         links: list | None = None, suggestions: list | None = None) -> dict:
    """source.label is the insurer the patient knows (CRD resp-4); a card with neither links nor suggestions is an
    Instructions card and always has a detail (resp-24)."""
    c = {"uuid": new_uuid(), "summary": _summary(summary), "indicator": indicator,
         "source": {"label": label, "topic": _topic(topic, old)}}
    if detail or not (links or suggestions):
        c["detail"] = detail or summary
    if links:
        c["links"] = links
    if suggestions:
        c["suggestions"] = suggestions
        c["selectionBehavior"] = "at-most-one"
    if order is not None and order.get("id"):
        c["extension"] = {"davinci-crd.associated-resource": [
            {"reference": f"{order['resourceType']}/{order['id']}"}]}
    return c


def topic_of(action: dict) -> str:
    return ((action.get("code") or [{}])[0].get("coding") or [{}])[0].get("code") or "guideline"


def policy_links(action: dict, fhir_base: str) -> list[dict]:
    """The policy's public address when the document gives one, else our page of the source at the quoted line."""
    links, pages = [], fhir_base.rsplit("/fhir", 1)[0] + "/ui"
    for doc in action.get("documentation") or []:
        url = doc.get("url") or cited_page(pages, doc) or ((doc.get("document") or {}).get("url"))
        if url and not url.startswith("http"):
            url = f"{fhir_base}/{url}"
        if url and url not in [x["url"] for x in links]:
            links.append({"label": f"Source: {doc.get('display') or doc.get('label') or 'policy'}"[:80], "url": url,
                          "type": "absolute"})
    return links


def cached_links(action, fhir_base: str) -> list[dict]:
    """policy_links of a rule Action, worked out once per FHIR base (they are shared by every answer: read only)."""
    links = action.links.get(fhir_base)
    if links is None:
        if len(action.links) >= MAX_BASES:
            action.links.clear()
        links = action.links[fhir_base] = policy_links(action.raw, fhir_base)
    return links


def card_text(action: dict) -> tuple[str, str, str]:
    """The topic, detail (the description and the policy quotes) and indicator of an action's card."""
    detail = action.get("description") or ""
    quotes = [f"> {d['citation']}" for d in action.get("documentation") or [] if d.get("citation")]
    if quotes and not any(q[2:] in detail for q in quotes):
        detail += "\n\n" + "\n".join(quotes)
    return topic_of(action), detail, INDICATOR.get(action.get("priority"), "info")


def action_card(action, label: str, old: bool, order: dict, fhir_base: str, removals: list[dict]) -> dict:
    """The card of a rule Action (its text worked out once, at start-up) for one order."""
    topic, detail, indicator = action.card_text
    suggestions = None
    if removals:
        suggestions = [{"label": f"Remove {r['resourceType']}/{r['id']}", "uuid": new_uuid(),
                        "isRecommended": True,
                        "actions": [{"type": "delete", "description": f"Remove the conflicting order {r['id']}",
                                     "resourceId": f"{r['resourceType']}/{r['id']}"}]}
                       for r in removals if r.get("id")]
    return card(action.raw.get("title") or "", detail, indicator, label, topic, old, order,
                cached_links(action, fhir_base), suggestions)


def payment_card(code: str, items: list[dict], label: str, old: bool, order: dict) -> dict:
    lines = [f"- {cid.get('description') or cid.get('title')}" for cid in sorted(items, key=lambda c: c.get("id", ""))]
    if items[0].get("publisher"):
        lines += ["", f"Source: {items[0]['publisher']}"]
    title = items[0].get("title", "")
    year = title.split(" ")[1] if title.startswith("Medicare ") else ""
    return card(f"Medicare {year} national average payments for {code} by setting".replace("  ", " "),
                "\n".join(lines), "info", label, "cost", old, order)
