"""One `ValueSet.expansion.contains` item: display in the wanted language, designations (filtered by the
`designation` parameter), R5 properties as the R4 cross-version extensions, rendering and value-set extensions."""

from fhir_ire.terminology.languages import pick_display
from fhir_ire.terminology.properties import concept_extensions, concept_properties, property_uri
from fhir_ire.terminology.supplements import public

PREFERRED_FOR_LANGUAGE = {"system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra",
                          "code": "preferredForLanguage", "display": "Preferred For Language"}
EXPANSION_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property"
CONTAINS_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"


class ItemOptions:
    """What the request asks of each contains item."""

    def __init__(self, languages: list, hard: bool, designations: bool, wanted: list, designation_filter: list):
        self.languages, self.hard, self.designations = languages, hard, designations
        self.wanted = wanted
        self.filters = [f.split("|", 1) if "|" in f else (None, f) for f in designation_filter if isinstance(f, str)]


def _designation_wanted(d: dict, filters) -> bool:
    """`designation` parameters: system|code tokens; urn:ietf:bcp:47|xx selects a language, others a use."""
    if not filters:
        return True
    use = d.get("use") if isinstance(d.get("use"), dict) else {}
    for system, code in filters:
        if system == LANGUAGE_SYSTEM and str(d.get("language", "")).lower() == code.lower():
            return True
        if system != LANGUAGE_SYSTEM and use.get("code") == code and system in (None, use.get("system")):
            return True
    return False


def contains_item(cs, c, entry: dict | None, opts: ItemOptions) -> dict:
    if _is_plain(c, entry, opts):  # most concepts of large code systems: code and display only
        item = {"system": cs.url, "code": c.code, "display": c.display} if c.display else \
            {"system": cs.url, "code": c.code}
        if c.abstract:
            item = {"system": cs.url, "abstract": True, **{k: v for k, v in item.items() if k != "system"}}
        return item
    item = {}
    if extensions := concept_extensions(c, entry):
        item["extension"] = list(extensions)
    item["system"] = cs.url
    if c.abstract:
        item["abstract"] = True
    if c.inactive:
        item["inactive"] = True
    item["code"] = c.code
    display = pick_display(cs, c, opts.languages, opts.hard)
    if display:
        item["display"] = display
    props = [{"url": CONTAINS_PROPERTY, "extension": [{"url": "code", "valueCode": code}, {"url": "value", key: value}]}
             for code, key, value in concept_properties(cs, c, entry, opts.wanted)]
    if props:
        item.setdefault("extension", []).extend(props)
    designations = [public(d) for d in c.designations] + [d for d in (entry or {}).get("designation") or []
                                                          if isinstance(d, dict)]
    if display != c.display and c.display:  # the display came from a designation: the original one becomes one
        own = (cs.resource or {}).get("language")
        designations = [{**({"language": own} if own else {}), "use": PREFERRED_FOR_LANGUAGE, "value": c.display}] + \
            [d for d in designations if d.get("value") != display]
    designations = [d for d in designations if _designation_wanted(d, opts.filters)]
    if opts.designations and designations:
        item["designation"] = designations
    return item


def _is_plain(c, entry, opts: ItemOptions) -> bool:
    return not (entry or c.extensions or c.inactive or opts.languages or opts.wanted or opts.filters or
                (c.status and c.status != "active") or (opts.designations and c.designations))


def expansion_properties(items: list, codesystems: list) -> list:
    """The R5 expansion.property declarations for every property code the contains items carry."""
    codes = []
    for item in items:
        for ext in item.get("extension") or []:
            if ext.get("url") == CONTAINS_PROPERTY:
                code = ext["extension"][0]["valueCode"]
                if code not in codes:
                    codes.append(code)
    out = []
    for code in codes:
        uri = property_uri(code, codesystems)
        if uri:
            out.append({"url": EXPANSION_PROPERTY, "extension": [{"url": "code", "valueCode": code},
                                                                  {"url": "uri", "valueUri": uri}]})
    return out
