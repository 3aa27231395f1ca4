"""What an expansion says about a concept besides its code and display: R5 concept properties (status, label, order,
weight, definition and the code system's own) and the rendering and value-set extensions, gathered from the code
system, its supplements and the value set's compose (the value set wins)."""

from fhir_ire.terminology.codesystems import STANDARDS_STATUS, Concept

SD = "http://hl7.org/fhir/StructureDefinition/"
CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
# concept extensions that travel as R5 expansion properties: url -> (property code, value key)
AS_PROPERTY = {
    SD + "codesystem-label": ("label", "valueString"),
    SD + "valueset-label": ("label", "valueString"),
    SD + "codesystem-conceptOrder": ("order", "valueDecimal"),
    SD + "valueset-conceptOrder": ("order", "valueDecimal"),
    SD + "itemWeight": ("weight", "valueDecimal"),
}
KNOWN_URIS = {"label": CONCEPT_PROPERTIES + "label", "order": CONCEPT_PROPERTIES + "order",
              "weight": CONCEPT_PROPERTIES + "itemWeight", "status": CONCEPT_PROPERTIES + "status",
              "definition": CONCEPT_PROPERTIES + "definition"}
# concept extensions copied onto the contains item: from the code system, and from the value set's compose
FROM_CODE_SYSTEM = (SD + "rendering-style", SD + "rendering-xhtml")
FROM_VALUE_SET = FROM_CODE_SYSTEM + (SD + "valueset-deprecated", SD + "valueset-concept-definition", STANDARDS_STATUS)


def _value(item: dict):
    return next(((k, v) for k, v in item.items() if k.startswith("value")), (None, None))


def vs_entries(vs: dict) -> dict:
    """(system, code) -> the value set's own compose.include.concept entry (extensions, designations)."""
    out = {}
    for inc in (vs.get("compose") or {}).get("include") or []:
        for entry in inc.get("concept") or []:
            if isinstance(entry, dict) and inc.get("system"):
                out.setdefault((inc["system"], entry.get("code")), entry)
    return out


def concept_properties(cs, concept: Concept, entry: dict | None, wanted: list) -> list[tuple[str, str, object]]:
    """(code, value key, value) for each property the contains item carries."""
    found: dict[str, tuple[str, object]] = {}
    if concept.status and concept.status != "active":
        found["status"] = ("valueCode", concept.status)
    for ext in concept.extensions + ((entry or {}).get("extension") or []):
        if isinstance(ext, dict) and ext.get("url") in AS_PROPERTY:
            code, key = AS_PROPERTY[ext["url"]]
            found[code] = (key, _value(ext)[1])
    for p in concept.properties:
        key, value = _value(p)
        if p.get("code") in wanted and p.get("code") not in ("status",) and key:
            found.setdefault(p["code"], (key, value))
    if "definition" in wanted and concept.definition:
        found["definition"] = ("valueString", concept.definition)
    return [(code, key, value) for code, (key, value) in found.items()]


def concept_extensions(concept: Concept, entry: dict | None) -> list[dict]:
    """The rendering and value-set extensions of the contains item, the value set's overriding the code system's."""
    by_url = {e["url"]: e for e in concept.extensions if isinstance(e, dict) and e.get("url") in FROM_CODE_SYSTEM}
    for e in (entry or {}).get("extension") or []:
        if isinstance(e, dict) and e.get("url") in FROM_VALUE_SET:
            by_url[e["url"]] = e
    return list(by_url.values())


def property_uri(code: str, codesystems) -> str | None:
    """The URI that identifies a property code: the code system's definition, else the concept-properties one."""
    for cs in codesystems:
        for d in cs.property_defs:
            if d.get("code") == code and d.get("uri"):
                return d["uri"]
    return KNOWN_URIS.get(code)
