"""Which concepts a value set holds: compose rules evaluated over the code systems (with imports, contained value
sets and version rules), membership tests that need no expansion, and how a request names its value set."""

import hashlib

from fhir_ire.errors import InvalidRequest, NotFound
from fhir_ire.store import version_key
from fhir_ire.terminology.compose import check_filters, include_concepts, include_has
from fhir_ire.terminology.languages import value_set_parameters
from fhir_ire.terminology.outcome import TxError
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.registry import Scope, is_version_match
from fhir_ire.terminology.versions import VersionRules
from fhir_ire.uris import normalize_system

def _or_list(items: list[str]) -> str:
    return " or ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


def include_codesystem(scope: Scope, include: dict, used: dict):
    """The code system (version) an include clause means under the request's version rules; recorded in used."""
    system, pinned = include.get("system"), include.get("version")
    rules = scope.rules or VersionRules()
    force, check = rules.force.get(system), rules.check.get(system)
    version = force or pinned or rules.default.get(system) or check
    if not force and not pinned:  # the request's default or check chose the version: echo it
        if rules.default.get(system):
            used[("echo", "system-version", system)] = f"{system}|{rules.default[system]}"
        elif check:
            used[("echo", "check-system-version", system)] = f"{system}|{check}"
    cs = scope.codesystem(system, version)
    if cs is None:
        known = scope.codesystem_versions(system)
        if version and known:
            raise TxError(f"A definition for CodeSystem '{system}' version '{version}' could not be found, so the "
                          f"value set cannot be expanded. Valid versions: {_or_list(known)}", status=404,
                          code="not-found", tx_type="not-found", message_id="UNKNOWN_CODESYSTEM_VERSION_EXP")
        raise TxError(f"A definition for CodeSystem '{system}' could not be found, so the value set cannot be expanded",
                      status=404, code="not-found", tx_type="not-found", message_id="UNKNOWN_CODESYSTEM")
    if check and cs.version and not is_version_match(check, cs.version) and check != cs.version:
        raise TxError(f"The version '{cs.version}' is not allowed for system '{cs.url}': required to be '{check}' by a "
                      "version-check parameter", code="exception", tx_type="version-error",
                      message_id="VALUESET_VERSION_CHECK")
    used[(cs.url, cs.version)] = cs
    return cs


def evaluate(scope: Scope, vs: dict, used: dict, chain: tuple = ()) -> list[tuple]:
    """[(code system, concept)] the value set holds, in order, without duplicates."""
    chain = _enter(vs, chain)
    compose = vs.get("compose") or {}
    if not compose and (vs.get("expansion") or {}).get("contains") is not None:
        return _from_expansion(scope, vs, used)
    out, seen = [], set()
    for i, inc in enumerate(compose.get("include") or []):
        check_filters(inc, i)
        for cs, c in _include(scope, {**inc, "_owner": vs}, used, chain):
            if (cs.url, cs.version, c.code) not in seen:
                seen.add((cs.url, cs.version, c.code))
                out.append((cs, c))
    versions_match = str(value_set_parameters(vs).get("versionsMatch", "")).lower()
    for i, exc in enumerate(compose.get("exclude") or []):
        check_filters(exc, i, "exclude")
        by_version = _excludes_by_version(compose, exc, versions_match)
        if not by_version and exc.get("version"):
            used[("versionsMatch",)] = True
        key = (lambda cs, c: (cs.url, cs.version, c.code)) if by_version else (lambda cs, c: (cs.url, c.code))
        drop = {key(cs, c) for cs, c in _include(scope, {**exc, "_owner": vs}, used, chain)}
        out = [(cs, c) for cs, c in out if key(cs, c) not in drop]
    if compose.get("inactive") is False:
        out = [(cs, c) for cs, c in out if not c.inactive]
    if versions_match == "true":
        out = _merge_versions(out)
        used[("versionsMatch",)] = True
    return out


def _excludes_by_version(compose: dict, exclude: dict, versions_match: str) -> bool:
    """An exclude pinned to a version the value set includes removes that version's codes only; one pinned to a
    version it does not include removes the codes from every version (versions match), unless versionsMatch=false."""
    if versions_match == "false":
        return True
    pinned = exclude.get("version")
    return bool(pinned) and any(inc.get("system") == exclude.get("system") and inc.get("version") == pinned
                                for inc in compose.get("include") or [])


def _merge_versions(pairs: list) -> list:
    """versionsMatch=true: one entry per code, from the newest version that has it, at its first position."""
    groups: dict = {}
    for cs, c in pairs:
        groups.setdefault((cs.url, c.code), []).append((cs, c))
    return [max(group, key=lambda p: version_key(p[0].version)) for group in groups.values()]


def _check_shape(vs: dict) -> None:
    """Value sets sent inline are not trusted: compose clauses must have the FHIR shapes the rules read."""
    compose = vs.get("compose") or {}
    ok = isinstance(compose, dict) and all(isinstance(compose.get(k, []), list) for k in ("include", "exclude"))
    if ok:
        ok = all(_is_clause(c) for c in (compose.get("include") or []) + (compose.get("exclude") or []))
    if not ok:
        raise TxError(f"The value set '{vs.get('url')}' has a malformed compose", tx_type="vs-invalid")


def _is_clause(clause) -> bool:
    return isinstance(clause, dict) and all(
        isinstance(clause.get(k, []), list) and all(isinstance(x, t) for x in clause.get(k, []))
        for k, t in (("concept", dict), ("filter", dict), ("valueSet", str))) and \
        all(isinstance(clause.get(k, ""), str) for k in ("system", "version")) and \
        all(isinstance(f.get(k, ""), str) for f in clause.get("filter", []) for k in ("property", "op", "value"))


def _enter(vs: dict, chain: tuple) -> tuple:
    """The chain of value sets being evaluated, refusing one that imports itself."""
    _check_shape(vs)
    key = _vs_key(vs)
    if vs.get("url") and key in chain:
        raise TxError(f"Cyclic reference detected when evaluating the value set '{chain[0]}' via "
                      f"[{', '.join(chain[1:] + (key,))}]", code="processing", tx_type="vs-invalid",
                      message_id="VALUESET_CIRCULAR_REFERENCE")
    return chain + (key,)


SUPPLEMENT_EXT = "http://hl7.org/fhir/StructureDefinition/valueset-supplement"


def required_supplements(vs: dict | None, params: Params) -> list:
    """Supplements named by useSupplement parameters and by the value set's valueset-supplement extensions."""
    named = [e.get("valueCanonical") for e in (vs or {}).get("extension") or [] if e.get("url") == SUPPLEMENT_EXT]
    return params.texts("useSupplement") + named


def imported_valueset(scope: Scope, url: str, strict: bool = True) -> dict | None:
    """An imported value set; an unversioned import takes the request's default-valueset-version, which must exist."""
    version = None if "|" in url else (scope.rules or VersionRules()).valuesets.get(url)
    found = scope.valueset(url, version)
    if found is None and version and strict:
        raise TxError(f"A definition for the value Set '{url}|{version}' could not be found (default-valueset-version)",
                      status=404, code="not-found", tx_type="not-found", message_id="VS_EXP_IMPORT_UNK_PINNED")
    return found


def check_imports(scope: Scope, vs: dict, chain: tuple = ()) -> list[str]:
    """Walk the value sets this one imports (include and exclude), refusing cycles before any evaluation; the
    imports that cannot be found."""
    chain = _enter(vs, chain)
    compose = vs.get("compose") or {}
    missing = []
    for clause in (compose.get("include") or []) + (compose.get("exclude") or []):
        for url in clause.get("valueSet") or []:
            other = _contained(vs, url) or imported_valueset(scope, url, strict=False)
            missing += [_import_ref(scope, url)] if other is None else check_imports(scope, other, chain)
    return missing


def _import_ref(scope: Scope, url: str) -> str:
    """How an import that cannot be found is named: with the version default-valueset-version gives it."""
    version = None if "|" in url else (scope.rules or VersionRules()).valuesets.get(url)
    return f"{url}|{version}" if version else url


def imported_valuesets(scope: Scope, vs: dict, chain: tuple = ()) -> list[dict]:
    """The value sets this one imports, directly or not (cycles were refused by check_imports)."""
    out = []
    for clause in ((vs.get("compose") or {}).get("include") or []) + ((vs.get("compose") or {}).get("exclude") or []):
        for url in clause.get("valueSet") or []:
            other = _contained(vs, url) or imported_valueset(scope, url, strict=False)
            if other is not None and _vs_key(other) not in chain:
                out += [other] + imported_valuesets(scope, other, chain + (_vs_key(other),))
    return out


def _vs_key(vs: dict) -> str:
    return f"{vs.get('url')}|{vs['version']}" if vs.get("version") else str(vs.get("url"))


def vs_of(inc):
    return inc.get("_owner") or {}


def _contained(vs: dict, ref: str) -> dict | None:
    if ref.startswith("#"):
        return next((r for r in vs.get("contained") or [] if r.get("id") == ref[1:]), None)
    return next((r for r in vs.get("contained") or [] if r.get("url") == ref), None)


def _include(scope, inc, used, chain):
    imported = None
    for url in inc.get("valueSet") or []:
        other = _contained(vs_of(inc), url)
        if other is None and (other := imported_valueset(scope, url)) is not None:
            used[("valueset", _vs_key(other))] = other
        if other is None:
            raise TxError(f"A definition for the value Set '{url}' could not be found", status=404, code="not-found",
                          tx_type="not-found", message_id="Unable_to_resolve_value_Set_")
        pairs = evaluate(scope, other, used, chain)
        keys = {(cs.url, c.code) for cs, c in pairs}
        imported = keys if imported is None else imported & keys
        if not inc.get("system"):
            base = pairs
    if inc.get("system"):
        cs = include_codesystem(scope, inc, used)
        pairs = [(cs, c) for c in include_concepts(cs, inc, scope.spend)]
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


def contains(scope: Scope, vs: dict, system: str, code: str, version: str | None = None, chain: tuple = ()) -> bool:
    """Is system#code in the value set? Tested rule by rule, so large code systems need no expansion."""
    chain = _enter(vs, chain)
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
            target, member = cs, concept
            if inc.get("system") and normalize_system(inc["system"]) != cs.url:
                continue
            if inc.get("system") and version and inc.get("version") and inc["version"] != cs.version and \
                    not is_version_match(inc["version"], cs.version or ""):
                if kind == "include" or _excludes_by_version(compose, inc, versions_match):
                    continue
                target = scope.codesystem(system, inc["version"])  # versions match: the same code elsewhere
                member = target.find(code) if target else None
                if member is None:
                    continue
            if inc.get("valueSet"):
                if not all(contains(scope, _contained(vs, u) or imported_valueset(scope, u) or {}, system, code, version, chain)
                           for u in inc["valueSet"]):
                    continue
                if not inc.get("system"):
                    return True
            if include_has(target, inc, member):
                return True
        return False

    versions_match = str(value_set_parameters(vs).get("versionsMatch", "")).lower()
    if not held(compose.get("include") or [], "include"):
        return False
    if compose.get("inactive") is False and concept.inactive:
        return False
    return not held(compose.get("exclude") or [], "exclude")


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
