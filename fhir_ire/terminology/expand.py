"""ValueSet/$expand: a value set's concepts as an expansion, with paging, text filter, hierarchy, languages and the
parameter echoes the tx tests expect."""

import uuid

from fhir_ire.errors import TooCostly
from fhir_ire.store import version_key
from fhir_ire.terminology.compose import filter_op
from fhir_ire.terminology.languages import parse_languages, pick_display, value_set_parameters
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.registry import Scope
from fhir_ire.terminology.status import expansion_warnings
from fhir_ire.terminology.valuesets import MAX_EXPANSION, evaluate, required_supplements
from fhir_ire.terminology.versions import VersionRules

MAX_UNPAGED = 1000  # concepts an expansion returns without count; more is too-costly
ECHO = ("activeOnly", "count", "displayLanguage", "excludeNested", "force-system-version",
        "includeDefinition", "includeDesignations", "offset", "filter", "date",
        "designation", "excludeNotForUI", "excludePostCoordinated", "exclude-system", "default-to-latest-version",
        "default-valueset-version")
UNCLOSED = "http://hl7.org/fhir/StructureDefinition/valueset-unclosed"
CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
PREFERRED_FOR_LANGUAGE = {"system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage",
                          "display": "Preferred For Language"}
EXPANSION_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property"
CONTAINS_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property"


def _matches_text(c, text: str) -> bool:
    text = text.lower()
    words = (c.display or "").lower().split()
    return c.code.lower().startswith(text) or any(w.startswith(text) for w in words) or text in (c.display or "").lower()


def _contains_item(cs, c, include_designations: bool, languages: list, wanted: list) -> dict:
    item = {"system": cs.url}
    if c.abstract:
        item["abstract"] = True
    if c.inactive:
        item["inactive"] = True
    item["code"] = c.code
    display = pick_display(cs, c, languages)
    if display:
        item["display"] = display
    props = [{"url": CONTAINS_PROPERTY, "extension": [{"url": "code", "valueCode": "status"},
                                                       {"url": "value", "valueCode": c.status}]}] if c.status else []
    for p in c.properties:
        key = next((k for k in p if k.startswith("value")), None)
        if p.get("code") in wanted and p.get("code") != "status" and key:
            props.append({"url": CONTAINS_PROPERTY, "extension": [{"url": "code", "valueCode": p["code"]},
                                                                   {"url": "value", key: p[key]}]})
    if "definition" in wanted and c.definition:
        props.append({"url": CONTAINS_PROPERTY, "extension": [{"url": "code", "valueCode": "definition"},
                                                               {"url": "value", "valueString": c.definition}]})
    if props:
        item["extension"] = props
    designations = [dict(d) for d in c.designations]
    if display != c.display and c.display:  # the display came from a designation: the original one becomes one
        own = (cs.resource or {}).get("language")
        designations = [{**({"language": own} if own else {}), "use": PREFERRED_FOR_LANGUAGE, "value": c.display}] + \
            [d for d in designations if d.get("value") != display]
    if include_designations and designations:
        item["designation"] = designations
    return item


def _expansion_properties(page, wanted: list) -> list:
    """The properties the contains items carry, with their URIs from the code systems (R5 expansion.property)."""
    out, seen = [], set()
    codes = (["status"] if any(c.status for _, c in page) else []) + [w for w in wanted if w != "status"]
    for code in codes:
        uri = next((d.get("uri") for cs, _ in page for d in cs.property_defs if d.get("code") == code and d.get("uri")),
                   CONCEPT_PROPERTIES + code if code in ("status", "definition") else None)
        if code not in seen and uri:
            seen.add(code)
            out.append({"url": EXPANSION_PROPERTY, "extension": [{"url": "code", "valueCode": code},
                                                                  {"url": "uri", "valueUri": uri}]})
    return out


def expand(scope: Scope, vs: dict, params: Params) -> dict:
    used: dict = {}
    scope.check_supplements(required_supplements(vs, params))
    scope.rules = VersionRules.from_params(params)
    own = value_set_parameters(vs)
    if own.get("displayLanguage") and not params.has("displayLanguage"):
        params.types[len(params.items)] = "valueCode"
        params.items.append(("displayLanguage", own["displayLanguage"]))
    languages = parse_languages(params.text("displayLanguage"))
    offset, count = params.integer("offset", 0), params.integer("count")  # bad paging fails before any work
    pairs = evaluate(scope, vs, used)
    if params.flag("activeOnly"):
        pairs = [(cs, c) for cs, c in pairs if not c.inactive]
    if text := params.text("filter"):
        pairs = [(cs, c) for cs, c in pairs if _matches_text(c, text)]
    if count is not None:  # a server may return fewer than asked; more than MAX_EXPANSION is never built
        count = min(count, MAX_EXPANSION)
    if count is None and len(pairs) > MAX_UNPAGED:
        raise TooCostly(f"The value set expansion has {len(pairs)} concepts, more than {MAX_UNPAGED}: use count and "
                        f"offset, or a filter", status=422)
    page = pairs[offset: offset + count if count is not None else None]
    designations = params.flag("includeDesignations")
    expansion = {"identifier": f"urn:uuid:{uuid.uuid4()}", "timestamp": _now(), "total": len(pairs)}
    if params.has("offset") or params.has("count"):
        expansion["offset"] = offset
    echoes = [{"name": k[1], "valueUri": v} for k, v in used.items() if k[0] == "echo"]
    used = {k: v for k, v in used.items() if k[0] != "echo"}
    valuesets = sorted(k[1] for k in used if k[0] == "valueset")
    imported = {k: v for k, v in used.items() if k[0] == "valueset"}
    used = {k: v for k, v in used.items() if k[0] != "valueset"}
    fragments = [cs for cs in used.values() if cs.content == "fragment"]
    if fragments:
        expansion["extension"] = [{"url": UNCLOSED, "valueBoolean": True},
                                  {"url": UNCLOSED + "-reason", "valueString": "This extension is based on a fragment "
                                   f"of the code system {fragments[0].url}"}]
    parameters = [{"name": n, "valueUri" if n in ("force-system-version", "default-valueset-version") else key: v}
                  for n in ECHO for key, v in params.typed(n)] + echoes
    for (url, version), cs in sorted(used.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        ref = f"{url}|{version}" if version else url
        parameters.append({"name": "used-codesystem", "valueUri": ref})
        if cs.content == "fragment":
            parameters.append({"name": "used-fragment", "valueUri": ref})
    parameters += [{"name": "used-valueset", "valueUri": ref} for ref in valuesets]
    parameters += expansion_warnings(vs, list(imported.values()) + [cs.resource for cs in used.values() if cs.resource])
    if parameters:
        expansion["parameter"] = parameters
    wanted = [w for w in params.all("property") if isinstance(w, str)]
    if props := _expansion_properties(page, wanted):
        expansion.setdefault("extension", []).extend(props)
    if page:
        page = _newest_first(page)
        items = [_contains_item(cs, c, designations, languages, wanted) for cs, c in page]
        several = _multi_version(page)
        for (cs, _), item in zip(page, items):
            if cs.url in several:
                item["version"] = cs.version
        expansion["contains"] = _nest(page, items) if _is_hierarchical(vs, params) else items
    out = {k: v for k, v in vs.items() if k not in ("expansion", "text", "meta", "compose", "contained")}
    out["expansion"] = expansion
    return out


def _multi_version(pairs) -> set:
    """Systems present in more than one version: their contains items name the version."""
    versions: dict = {}
    for cs, _ in pairs:
        versions.setdefault(cs.url, set()).add(cs.version)
    return {url for url, vs in versions.items() if len(vs) > 1}


def _newest_first(pairs: list) -> list:
    """The same code from several versions of a system: keep the first position, newest version first."""
    groups: dict = {}
    for cs, c in pairs:
        groups.setdefault((cs.url, c.code), []).append((cs, c))
    out = []
    for group in groups.values():
        out += sorted(group, key=lambda p: version_key(p[0].version), reverse=True)
    return out


def _is_hierarchical(vs: dict, params: Params) -> bool:
    """Keep the code system hierarchy when the value set takes whole systems or is-a subtrees and nothing pages."""
    if params.flag("excludeNested") or params.has("count") or params.has("offset"):
        return False
    includes = (vs.get("compose") or {}).get("include") or []
    for inc in includes:
        if not inc.get("system") or inc.get("concept") or inc.get("valueSet"):
            return False
        filters = inc.get("filter") or []
        if not filters and params.text("filter"):
            return False
        if any(f.get("property") not in ("concept", "code") or filter_op(f) not in ("is-a", "descendent-of")
               for f in filters):
            return False
    return bool(includes)


def _nest(pairs: list, items: list) -> list:
    """Place each contains item under its nearest ancestor that is also in the expansion."""
    index = {(cs.url, c.code): item for (cs, c), item in zip(pairs, items)}
    top = []
    for (cs, c), item in zip(pairs, items):
        parent = _nearest_included(cs, c, index)
        (parent.setdefault("contains", []) if parent is not None else top).append(item)
    return top


def _nearest_included(cs, concept, index: dict):
    seen, frontier = set(), list(concept.parents)
    while frontier:
        code = frontier.pop(0)
        if code in seen:
            continue
        seen.add(code)
        if (cs.url, code) in index:
            return index[(cs.url, code)]
        parent = cs.get(code)
        frontier.extend(parent.parents if parent else [])
    return None


def _now() -> str:
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
