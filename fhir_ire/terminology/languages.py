"""Display languages: which language a request wants (displayLanguage, Accept-Language, the value set's own
expansion parameters) and which display of a concept answers it."""

EXPANSION_PARAMETER = "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter"


def value_set_parameters(vs: dict) -> dict:
    """Expansion parameters a value set carries in compose (valueset-expansion-parameter extensions)."""
    out = {}
    for ext in ((vs or {}).get("compose") or {}).get("extension") or []:
        if ext.get("url") != EXPANSION_PARAMETER:
            continue
        parts = {e.get("url"): next((v for k, v in e.items() if k.startswith("value")), None)
                 for e in ext.get("extension") or []}
        if parts.get("name"):
            out[parts["name"]] = parts.get("value")
    return out


def parse_languages(value: str | None) -> list[str]:
    """'de, en;q=0.8, *' -> ['de', 'en', '*']."""
    return [part.split(";")[0].strip() for part in (value or "").split(",") if part.split(";")[0].strip()]


def _same(a: str | None, b: str) -> bool:
    return bool(a) and (a.lower() == b.lower() or a.lower().split("-")[0] == b.lower().split("-")[0])


def pick_display(cs, concept, languages: list[str]) -> str | None:
    """The concept's display in the first wanted language it has; its own display otherwise."""
    own = (cs.resource or {}).get("language") if cs.resource else None
    for lang in languages:
        if lang == "*":
            return concept.display
        if own is None or _same(own, lang):
            return concept.display
        for d in concept.designations:
            if _same(d.get("language"), lang) and d.get("value"):
                return d["value"]
    return concept.display


def candidates(cs, concept, languages: list[str]) -> list[tuple[str, str | None]]:
    """(display, language) pairs valid for the wanted languages; all of them when none is wanted."""
    own = (cs.resource or {}).get("language") if cs.resource else None
    pairs = [(concept.display, own)] if concept.display else []
    pairs += [(d.get("value"), d.get("language")) for d in concept.designations if d.get("value")]
    if not languages or "*" in languages:
        return pairs
    return [(v, lang) for v, lang in pairs if lang is None or any(_same(lang, w) for w in languages)]
