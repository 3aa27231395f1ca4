"""ValueSet/$expand: the compose rules evaluated into a flat expansion, with paging, text filter and echoes."""

import hashlib
import uuid

from fhir_ire.errors import InvalidRequest, NotFound, TooCostly
from fhir_ire.terminology.languages import parse_languages, pick_display, value_set_parameters
from fhir_ire.terminology.compose import check_filters, filter_op, include_concepts, include_has
from fhir_ire.terminology.outcome import TxError
from fhir_ire.terminology.params import Params
from fhir_ire.store import _version_key
from fhir_ire.terminology.registry import Scope, is_version_match
from fhir_ire.terminology.versions import VersionRules
from fhir_ire.uris import normalize_system

MAX_EXPANSION = 10000
ECHO = ("activeOnly", "count", "displayLanguage", "excludeNested", "force-system-version",
        "includeDefinition", "includeDesignations", "offset", "property", "filter", "date",
        "designation", "excludeNotForUI", "excludePostCoordinated", "exclude-system", "default-to-latest-version")
UNCLOSED = "http://hl7.org/fhir/StructureDefinition/valueset-unclosed"
EXPANSION_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property"
CONTAINS_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property"


def _codesystem(scope: Scope, include: dict, used: dict):
    system, pinned = include.get("system"), include.get("version")
    rules = scope.rules or VersionRules()
    force, check = rules.force.get(system), rules.check.get(system)
    version = force or pinned or rules.default.get(system) or check
    cs = scope.codesystem(system, version)
    if cs is None:
        known = scope.codesystem_versions(system)
        if version and known:
            raise TxError(f"A definition for CodeSystem '{system}' version '{version}' could not be found, so the "
                          f"value set cannot be expanded. Valid versions: {', '.join(known)}", status=404,
                          code="not-found", tx_type="not-found", message_id="UNKNOWN_CODESYSTEM_VERSION")
        raise TxError(f"A definition for CodeSystem '{system}' could not be found, so the value set cannot be expanded",
                      status=404, code="not-found", tx_type="not-found", message_id="UNKNOWN_CODESYSTEM")
    if check and cs.version and not is_version_match(check, cs.version) and check != cs.version:
        raise TxError(f"The version '{cs.version}' is not allowed for system '{cs.url}': required to be '{check}' by a "
                      "version-check parameter", code="exception", tx_type="version-error",
                      message_id="VALUESET_VERSION_CHECK")
    used[(cs.url, cs.version)] = cs
    return cs


def evaluate(scope: Scope, vs: dict, used: dict, depth: int = 0) -> list[tuple]:
    """[(code system, concept)] the value set holds, in order, without duplicates."""
    if depth > 10:
        raise TxError("Value set imports are nested too deeply (circular?)", tx_type="vs-invalid")
    compose = vs.get("compose") or {}
    if not compose and (vs.get("expansion") or {}).get("contains") is not None:
        return _from_expansion(scope, vs, used)
    out, seen = [], set()
    for i, inc in enumerate(compose.get("include") or []):
        check_filters(inc, i)
        for cs, c in _include(scope, {**inc, "_owner": vs}, used, depth):
            if (cs.url, cs.version, c.code) not in seen:
                seen.add((cs.url, cs.version, c.code))
                out.append((cs, c))
    for i, exc in enumerate(compose.get("exclude") or []):
        check_filters(exc, i, "exclude")
        drop = {(cs.url, cs.version, c.code) for cs, c in _include(scope, exc, used, depth)}
        out = [(cs, c) for cs, c in out if (cs.url, cs.version, c.code) not in drop]
    if compose.get("inactive") is False:
        out = [(cs, c) for cs, c in out if not c.inactive]
    return out


def _vs_key(vs: dict) -> str:
    return f"{vs.get('url')}|{vs['version']}" if vs.get("version") else str(vs.get("url"))


def vs_of(inc):
    return inc.get("_owner") or {}


def _contained(vs: dict, ref: str) -> dict | None:
    if ref.startswith("#"):
        return next((r for r in vs.get("contained") or [] if r.get("id") == ref[1:]), None)
    return next((r for r in vs.get("contained") or [] if r.get("url") == ref), None)


def _include(scope, inc, used, depth):
    imported = None
    for url in inc.get("valueSet") or []:
        other = _contained(vs_of(inc), url)
        if other is None and (other := scope.valueset(url)) is not None:
            used[("valueset", _vs_key(other))] = other
        if other is None:
            raise TxError(f"A definition for the value Set '{url}' could not be found", status=404, code="not-found",
                          tx_type="not-found", message_id="Unable_to_resolve_value_Set_")
        pairs = evaluate(scope, other, used, depth + 1)
        keys = {(cs.url, c.code) for cs, c in pairs}
        imported = keys if imported is None else imported & keys
        if not inc.get("system"):
            base = pairs
    if inc.get("system"):
        cs = _codesystem(scope, inc, used)
        pairs = [(cs, c) for c in include_concepts(cs, inc)]
    elif imported is not None:
        pairs = base
    else:
        return []
    return [(cs, c) for cs, c in pairs if imported is None or (cs.url, c.code) in imported]


def _from_expansion(scope, vs, used):
    out = []
    for item in vs["expansion"]["contains"]:
        cs = scope.codesystem(item.get("system"))
        c = cs.get(item.get("code")) if cs else None
        if cs and c:
            used[(cs.url, cs.version)] = cs
            out.append((cs, c))
    return out


def contains(scope: Scope, vs: dict, system: str, code: str, version: str | None = None) -> bool | None:
    """Is system#code in the value set? Tested rule by rule, so large code systems need no expansion."""
    cs = scope.codesystem(system, version)
    concept = cs.find(code) if cs else None
    if concept is None:
        return False
    compose = vs.get("compose") or {}
    if not compose:
        return any(c.code == concept.code and s.url == cs.url for s, c in evaluate(scope, vs, {}))

    def held(clauses, kind):
        for i, inc in enumerate(clauses):
            check_filters(inc, i, kind)
            if inc.get("system") and (normalize_system(inc["system"]) != cs.url or (
                    version and inc.get("version") and scope.codesystem(cs.url, inc["version"]) is not cs)):
                continue
            if inc.get("valueSet"):
                if not all(contains(scope, _contained(vs, u) or scope.valueset(u) or {}, system, code, version)
                           for u in inc["valueSet"]):
                    continue
                if not inc.get("system"):
                    return True
            if include_has(cs, inc, concept):
                return True
        return False

    if not held(compose.get("include") or [], "include"):
        return False
    if compose.get("inactive") is False and concept.inactive:
        return False
    return not held(compose.get("exclude") or [], "exclude")


def _matches_text(c, text: str) -> bool:
    text = text.lower()
    words = (c.display or "").lower().split()
    return c.code.lower().startswith(text) or any(w.startswith(text) for w in words) or text in (c.display or "").lower()


def _contains_item(cs, c, include_designations: bool, languages: list) -> dict:
    item = {"system": cs.url}
    if c.abstract:
        item["abstract"] = True
    if c.inactive:
        item["inactive"] = True
    item["code"] = c.code
    display = pick_display(cs, c, languages)
    if display:
        item["display"] = display
    if c.status:
        item["extension"] = [{"url": CONTAINS_PROPERTY, "extension": [{"url": "code", "valueCode": "status"},
                                                                      {"url": "value", "valueCode": c.status}]}]
    if include_designations and c.designations:
        item["designation"] = [{k: v for k, v in d.items()} for d in c.designations]
    return item


def expand(scope: Scope, vs: dict, params: Params) -> dict:
    used: dict = {}
    scope.rules = VersionRules.from_params(params)
    own = value_set_parameters(vs)
    if own.get("displayLanguage") and not params.has("displayLanguage"):
        params.types[len(params.items)] = "valueCode"
        params.items.append(("displayLanguage", own["displayLanguage"]))
    languages = parse_languages(params.text("displayLanguage"))
    pairs = evaluate(scope, vs, used)
    if params.flag("activeOnly"):
        pairs = [(cs, c) for cs, c in pairs if not c.inactive]
    if text := params.text("filter"):
        pairs = [(cs, c) for cs, c in pairs if _matches_text(c, text)]
    offset = params.integer("offset", 0)
    count = params.integer("count")
    if count is not None:  # a server may return fewer than asked; more than MAX_EXPANSION is never built
        count = min(count, MAX_EXPANSION)
    if count is None and len(pairs) > MAX_EXPANSION:
        raise TooCostly(f"The value set expansion has {len(pairs)} concepts, more than {MAX_EXPANSION}: use count and "
                        f"offset, or a filter", status=422, tx_issue_type="too-costly")
    page = pairs[offset: offset + count if count is not None else None]
    designations = params.flag("includeDesignations")
    expansion = {"identifier": f"urn:uuid:{uuid.uuid4()}", "timestamp": _now(), "total": len(pairs)}
    if params.has("offset") or params.has("count"):
        expansion["offset"] = offset
    valuesets = sorted(k[1] for k in used if k[0] == "valueset")
    used = {k: v for k, v in used.items() if k[0] != "valueset"}
    fragments = [cs for cs in used.values() if cs.content == "fragment"]
    if fragments:
        expansion["extension"] = [{"url": UNCLOSED, "valueBoolean": True},
                                  {"url": UNCLOSED + "-reason", "valueString": "This extension is based on a fragment "
                                   f"of the code system {fragments[0].url}"}]
    parameters = [{"name": n, "valueUri" if n == "force-system-version" else key: v}
                  for n in ECHO for key, v in params.typed(n)]
    for (url, version), cs in sorted(used.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        ref = f"{url}|{version}" if version else url
        parameters.append({"name": "used-codesystem", "valueUri": ref})
        if cs.content == "fragment":
            parameters.append({"name": "used-fragment", "valueUri": ref})
    parameters += [{"name": "used-valueset", "valueUri": ref} for ref in valuesets]
    if parameters:
        expansion["parameter"] = parameters
    if any(c.status for _, c in page):
        expansion.setdefault("extension", []).append({"url": EXPANSION_PROPERTY, "extension": [
            {"url": "code", "valueCode": "status"}, {"url": "uri", "valueUri": "http://hl7.org/fhir/concept-properties#status"}]})
    if page:
        page = _newest_first(page)
        items = [_contains_item(cs, c, designations, languages) for cs, c in page]
        for (cs, _), item in zip(page, items):
            if cs.url in _multi_version(page):
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
        out += sorted(group, key=lambda p: _version_key(p[0].version), reverse=True)
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


def resolve_valueset(scope: Scope, params: Params, instance: dict | None = None) -> dict:
    """The value set a request names: instance, inline valueSet, or url (+ valueSetVersion), or a code system's
    implicit value set (`{system}?fhir_vs`, `?fhir_vs=isa/{code}`, or the code system url itself)."""
    if instance is not None:
        return instance
    inline = params.get("valueSet")
    if isinstance(inline, dict):
        return inline
    url = params.text("url", "context")
    if not url:
        raise InvalidRequest("Provide a value set: url, valueSet, or call the operation on a ValueSet instance")
    version = params.text("valueSetVersion")
    vs = scope.valueset(url, version)
    if vs is not None:
        return vs
    base, _, query = url.partition("?")
    cs = scope.codesystem(base)
    if cs is not None and (not query or query.startswith("fhir_vs")):
        include = {"system": cs.url}
        if query.startswith("fhir_vs=isa/"):
            include["filter"] = [{"property": "concept", "op": "is-a", "value": query[len("fhir_vs=isa/"):]}]
        return {"resourceType": "ValueSet", "id": hashlib.sha1(url.encode()).hexdigest()[:16], "url": url,
                "status": "active", "compose": {"include": [include]}}
    ref = f"{url}|{version}" if version else url
    raise NotFound(f"A definition for the value Set '{ref}' could not be found", tx_issue_type="not-found")
