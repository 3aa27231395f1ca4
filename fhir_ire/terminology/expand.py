"""ValueSet/$expand: a value set's concepts as an expansion, with paging, text filter, hierarchy, languages and the
parameter echoes the tx tests expect."""


from fhir_ire.errors import TooCostly
from fhir_ire.ids import new_uuid
from fhir_ire.store import version_key
from fhir_ire.terminology.codesystems import STANDARDS_STATUS
from fhir_ire.terminology.compose import filter_op
from fhir_ire.terminology.contains import ItemOptions, contains_item, expansion_properties
from fhir_ire.terminology.languages import echo_languages, is_hard, parse_languages, value_set_parameters
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.properties import vs_entries
from fhir_ire.terminology.registry import Scope
from fhir_ire.terminology.status import expansion_warnings
from fhir_ire.terminology.supplements import reference
from fhir_ire.terminology.paging import concepts_at, positions, simple_include
from fhir_ire.terminology.textindex import code_prefix, has_words, query_words
from fhir_ire.terminology.valuesets import SUPPLEMENT_EXT, evaluate, include_codesystem, required_supplements
from fhir_ire.terminology.versions import VersionRules

ECHO = ("activeOnly", "count", "displayLanguage", "excludeNested", "force-system-version",
        "includeDefinition", "includeDesignations", "offset", "filter", "date",
        "designation", "excludeNotForUI", "excludePostCoordinated", "exclude-system", "default-to-latest-version",
        "default-valueset-version")
UNCLOSED = "http://hl7.org/fhir/StructureDefinition/valueset-unclosed"


def _select(scope: Scope, vs: dict, params: Params, used: dict, offset: int, count: int | None):
    """(total, the page of (code system, concept) pairs): from the word index when the value set is one large code
    system (whole or a subtree), else by evaluating the compose; never more than the expansion limit per answer."""
    text, active_only = params.text("filter"), params.flag("activeOnly")
    limit = scope.registry.limits.max_expansion
    inc = simple_include(vs)
    cs = include_codesystem(scope, inc, used) if inc else None
    indexed = positions(cs, inc, text, offset, count) if cs is not None and not (active_only and cs.has_inactive) \
        else None
    if indexed is not None and indexed[0] <= limit and _is_hierarchical(vs, params):
        indexed = None  # small enough to nest: evaluated below with its hierarchy
    pairs = None
    if indexed is None:
        pairs = evaluate(scope, vs, used)
        if active_only:
            pairs = [(cs, c) for cs, c in pairs if not c.inactive]
        if text:
            words, prefix = query_words(text), code_prefix(text)  # lower-cased once, not per concept
            pairs = [(cs, c) for cs, c in pairs if has_words(c.code, c.display, words, prefix)]
    total = indexed[0] if indexed is not None else len(pairs)
    size = max(0, min(total - offset, count if count is not None else total))
    if size > limit:
        advice = "use count and offset, or a filter" if count is None else f"ask for count <= {limit}"
        raise TooCostly(f"The expansion would return {size} of {total} concepts, more than the limit of {limit} per "
                        f"answer (--max-expansion): {advice}", status=422)
    if indexed is not None:
        return total, [(cs, c) for c in concepts_at(cs, indexed[1])]
    return total, pairs[offset: offset + count if count is not None else None]


def _top_level(vs: dict) -> dict:
    """The value set's metadata echoed with the expansion: not its definition, narrative or description, nor the
    status and unpinned supplement extensions that the expansion parameters report instead."""
    out = {k: v for k, v in vs.items() if k not in ("expansion", "text", "meta", "compose", "contained", "description")}
    kept = [e for e in vs.get("extension") or [] if isinstance(e, dict) and e.get("url") != STANDARDS_STATUS and not
            (e.get("url") == SUPPLEMENT_EXT and "|" not in str(e.get("valueCanonical", "")))]
    if kept:
        out["extension"] = kept
    else:
        out.pop("extension", None)
    return out


def _echoes(params: Params) -> list:
    out = []
    for name in ECHO:
        for key, value in params.typed(name):
            if name in ("force-system-version", "default-valueset-version"):
                key = "valueUri"
            if name == "displayLanguage" and isinstance(value, str):
                value = echo_languages(value)
            out.append({"name": name, key: value})
    return out


def expand(scope: Scope, vs: dict, params: Params) -> dict:
    used: dict = {}
    scope.check_supplements(required_supplements(vs, params))
    scope.rules = VersionRules.from_params(params)
    own = value_set_parameters(vs)
    if own.get("displayLanguage") and not params.has("displayLanguage"):
        params.types[len(params.items)] = "valueCode"
        params.items.append(("displayLanguage", own["displayLanguage"]))
    language = params.text("displayLanguage")
    opts = ItemOptions(parse_languages(language), is_hard(language), params.flag("includeDesignations"),
                       params.texts("property"), params.texts("designation"))
    offset, count = params.integer("offset", 0), params.integer("count")  # bad paging fails before any work
    total, page = _select(scope, vs, params, used, offset, count)
    expansion = {"identifier": f"urn:uuid:{new_uuid()}", "timestamp": _now(), "total": total}
    if params.has("offset") or params.has("count"):
        expansion["offset"] = offset
    echoes = [{"name": k[1], "valueUri": v} for k, v in used.items() if k[0] == "echo"]
    if used.pop(("versionsMatch",), None):
        echoes.append({"name": "versionsMatch", "valueBoolean": True})
    used = {k: v for k, v in used.items() if k[0] != "echo"}
    valuesets = sorted(k[1] for k in used if k[0] == "valueset")
    imported = {k: v for k, v in used.items() if k[0] == "valueset"}
    used = {k: v for k, v in used.items() if k[0] != "valueset"}
    fragments = [cs for cs in used.values() if cs.content == "fragment"]
    if fragments:
        expansion["extension"] = [{"url": UNCLOSED, "valueBoolean": True},
                                  {"url": UNCLOSED + "-reason", "valueString": "This extension is based on a fragment "
                                   f"of the code system {fragments[0].url}"}]
    parameters = _echoes(params) + echoes
    for (url, version), cs in sorted(used.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        ref = f"{url}|{version}" if version else url
        parameters.append({"name": "used-codesystem", "valueUri": ref})
        if cs.content == "fragment":
            parameters.append({"name": "used-fragment", "valueUri": ref})
    supplements = {reference(s) for cs in used.values() for s in cs.supplements}
    parameters += [{"name": "used-supplement", "valueUri": ref} for ref in sorted(supplements)]
    parameters += [{"name": "used-valueset", "valueUri": ref} for ref in valuesets]
    parameters += expansion_warnings(vs, list(imported.values()) + [cs.resource for cs in used.values() if cs.resource])
    if parameters:
        expansion["parameter"] = parameters
    if page:
        several = _multi_version(used, vs, scope)
        if several:
            page = _newest_first(page)
        entries = vs_entries(vs)
        items = [contains_item(cs, c, entries.get((cs.url, c.code)), opts) for cs, c in page]
        for (cs, _), item in zip(page, items):
            if cs.url in several:
                item["version"] = cs.version
        if props := expansion_properties(items, list(used.values())):
            expansion.setdefault("extension", []).extend(props)
        expansion["contains"] = _nest(page, items) if _is_hierarchical(vs, params) else items
    out = _top_level(vs)
    out["expansion"] = expansion
    return out


def _multi_version(used: dict, vs: dict, scope: Scope) -> set:
    """Systems the expansion used, or the value set pins, in more than one version: their contains items name the
    version."""
    used_versions, pinned = {}, {}
    for url, version in used:
        used_versions.setdefault(url, set()).add(version)
    compose = vs.get("compose") or {}
    for clause in (compose.get("include") or []) + (compose.get("exclude") or []):
        if clause.get("system") and clause.get("version"):
            cs = scope.codesystem(clause["system"], clause["version"])
            pinned.setdefault(clause["system"], set()).add(cs.version if cs else clause["version"])
    return {url for table in (used_versions, pinned) for url, versions in table.items() if len(versions) > 1}


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
