"""Which code system version a request means: the coding's own version, the value set's pinned version, and the
request's `system-version` (default), `force-system-version` (override) and `check-system-version` (constraint)."""

from dataclasses import dataclass, field

from fhir_ire.store import version_key
from fhir_ire.terminology.compose import include_has
from fhir_ire.terminology.outcome import issue
from fhir_ire.terminology.registry import is_version_match


@dataclass
class VersionRules:
    default: dict = field(default_factory=dict)
    force: dict = field(default_factory=dict)
    check: dict = field(default_factory=dict)
    valuesets: dict = field(default_factory=dict)  # default-valueset-version: value set url -> version

    @classmethod
    def from_params(cls, params) -> "VersionRules":
        def table(name):
            out = {}
            for value in params.texts(name):
                if isinstance(value, str) and "|" in value:
                    system, version = value.split("|", 1)
                    out[system] = version
            return out
        return cls(table("system-version"), table("force-system-version"), table("check-system-version"),
                   table("default-valueset-version"))


def _matches(pattern: str | None, version: str | None) -> bool:
    return bool(pattern and version) and (pattern == version or is_version_match(pattern, version))


def _shows(cs, code: str, display: str | None) -> bool:
    """Is display one of the code's displays in this version (any language)?"""
    concept = cs.find(code)
    wanted = (display or "").strip().lower()
    return concept is not None and wanted in {(v or "").strip().lower() for v in
                                              [concept.display] + [d.get("value") for d in concept.designations]}


def pinned_version(scope, vs: dict | None, system: str, code: str | None = None,
                   requested: str | None = None, display: str | None = None) -> str | None:
    """The version the value set's includes pin for system; with several pins, the one the coding names, else the
    newest whose include selects the code (preferring one where the coding's display is right), else the newest."""
    pins = [inc for inc in (vs or {}).get("compose", {}).get("include") or []
            if inc.get("system") == system and inc.get("version")]
    if len(pins) > 1 and requested and any(_matches(inc["version"], requested) for inc in pins):
        return requested
    if len(pins) > 1 and code is not None:
        held = []
        for inc in pins:
            cs = scope.codesystem(system, inc["version"])
            concept = cs.find(code) if cs else None
            if concept is not None and include_has(cs, inc, concept):
                held.append(cs)
        if display and any(_shows(cs, code, display) for cs in held):
            held = [cs for cs in held if _shows(cs, code, display)]
        if held:
            return max(held, key=lambda cs: version_key(cs.version)).version
    return max((inc["version"] for inc in pins), key=version_key) if pins else None


def _path(prefix: str, name: str) -> str:
    return prefix + name if prefix else name


def unknown_version(scope, system, version, facts, prefix) -> dict:
    known = scope.codesystem_versions(system)
    valid = (" Valid versions: " + " or ".join([", ".join(known[:-1]), known[-1]] if len(known) > 1 else known)
             if known else "")
    facts.setdefault("unknown-system", f"{system}|{version}")
    return issue("error", "not-found", "not-found", f"A definition for CodeSystem '{system}' version '{version}' could "
                 f"not be found, so the code cannot be validated.{valid}", _path(prefix, "system"),
                 "UNKNOWN_CODESYSTEM_VERSION")


def _mismatch(system, include_version, pinned, requested, changed, prefix) -> dict:
    if changed:
        return issue("error", "invalid", "vs-invalid", f"The code system '{system}' version '{include_version}' "
                     f"resulting from the version '{pinned or ''}' in the ValueSet include is different to the one in "
                     f"the value ('{requested}')", _path(prefix, "version"), "VALUESET_VALUE_MISMATCH_CHANGED")
    if pinned:
        return issue("error", "invalid", "vs-invalid", f"The code system '{system}' version '{include_version}' in the "
                     f"ValueSet include is different to the one in the value ('{requested}')", _path(prefix, "version"),
                     "VALUESET_VALUE_MISMATCH")
    return issue("warning", "invalid", "vs-invalid", f"The code system '{system}' version '{include_version}' for the "
                 f"versionless include in the ValueSet include is different to the one in the value ('{requested}')",
                 _path(prefix, "version"), "VALUESET_VALUE_MISMATCH_DEFAULT")


def resolve_version(scope, vs, system, requested, rules: VersionRules, prefix: str, facts: dict, code=None,
                    display=None):
    """(code system, issues) for validating a coding of system (requested = the coding's version)."""
    if not scope.codesystem_versions(system):
        return scope.codesystem(system, requested), []
    force, default, check = rules.force.get(system), rules.default.get(system), rules.check.get(system)
    pinned = pinned_version(scope, vs, system, code, requested, display) if vs is not None else None
    cs_requested = scope.codesystem(system, requested) if requested else None
    cs_pinned = cs_requested if cs_requested and _matches(pinned, requested) else \
        scope.codesystem(system, pinned) if pinned else None
    cs_fallback = scope.codesystem(system, force or default or check) or scope.codesystem(system)
    issues = []
    if vs is not None and requested:
        include_version = force or (cs_pinned.version if cs_pinned else pinned) or default or check or \
            cs_fallback.version
        if not _matches(force or pinned or include_version, requested):
            changed = bool(force) or (not pinned and bool(default or check))
            issues.append(_mismatch(system, include_version, pinned, requested, changed, prefix))
    if requested and cs_requested is None:
        issues.append(unknown_version(scope, system, requested, facts, prefix))
    if pinned and cs_pinned is None and not force:
        issues.append(unknown_version(scope, system, pinned, facts, prefix))
        facts["pinned-unknown"] = True
    if force:
        cs = scope.codesystem(system, force) or cs_fallback
    elif cs_pinned is not None:
        cs = cs_pinned
    else:
        cs = cs_requested or cs_fallback
    if check and cs is not None and not _matches(check, cs.version):
        issues.append(issue("error", "exception", "version-error", f"The version '{cs.version}' is not allowed for "
                            f"system '{system}': required to be '{check}' by a version-check parameter",
                            _path(prefix, "version"), "VALUESET_VERSION_CHECK"))
    return cs, issues
