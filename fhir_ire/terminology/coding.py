"""One coding checked for $validate-code: its system (absolute, a code system, not a value set or a supplement), its
version, the code, its membership of the value set, its status and its display. Problems are OperationOutcome issues
in the shape the terminology ecosystem expects."""

from fhir_ire.terminology.languages import check_display, parse_languages, pick_display
from fhir_ire.terminology.outcome import issue
from fhir_ire.terminology.properties import vs_entries
from fhir_ire.terminology.status import reference
from fhir_ire.terminology.valuesets import contains, evaluate
from fhir_ire.terminology.versions import resolve_version

NOT_IN_VS = "None_of_the_provided_codes_are_in_the_value_set_one"
SD = "http://hl7.org/fhir/StructureDefinition/"
DEPRECATED_IN_VS = {(SD + "valueset-deprecated", True), (SD + "valueset-deprecated", "true"),
                    (SD + "structuredefinition-standards-status", "deprecated")}


def path(prefix: str, name: str) -> str:
    return prefix + name if prefix else name


def vs_ref(vs: dict) -> str:
    """How messages name a value set: url|version, or (unidentified) for one without a url."""
    return reference(vs) if vs.get("url") else "(unidentified)"


def not_in_vs(system, code, display, vs, prefix, version=None) -> dict:
    shown = f"{system}|{version}#{code}" if version else f"{system}#{code}"
    shown += f" ('{display}')" if display else ""
    text = f"The provided code '{shown}' was not found in the value set '{vs_ref(vs)}'"
    if prefix.startswith("CodeableConcept"):
        return issue("information", "code-invalid", "this-code-not-in-vs", text, path(prefix, "code"), NOT_IN_VS)
    return issue("error", "code-invalid", "not-in-vs", text, path(prefix, "code"), NOT_IN_VS)


def _systems_of(vs: dict) -> set:
    compose = vs.get("compose") or {}
    return {i.get("system") for i in (compose.get("include") or []) + (compose.get("exclude") or [])}


def _infer_system(scope, vs, code, prefix, infer):
    """The system of a coding sent without one: the only system of the value set that has the code."""
    systems = sorted({cs.url for cs, c in evaluate(scope, vs, {}) if c.code == code})
    if len(systems) == 1 and infer:
        return systems[0], []
    why = f": value set expansion has multiple matches: [{', '.join(systems)}]" if len(systems) > 1 else ""
    issues = [issue("error", "code-invalid", "not-in-vs", f"The provided code '#{code}' was not found in the value set "
                    f"'{vs_ref(vs)}'", path(prefix, "code"), NOT_IN_VS)]
    if infer:
        issues.append(issue("error", "not-found", "cannot-infer", f"The System URI could not be determined for the "
                            f"code '{code}' in the ValueSet '{vs_ref(vs)}'{why}", path(prefix, "code"),
                            "Unable_to_resolve_system__value_set_has_multiple_matches" if why else None))
    else:
        issues.append(issue("warning", "invalid", "invalid-data", "Coding has no system. A code with no system has no "
                            "defined meaning, and it cannot be validated. A system should be provided",
                            prefix.rstrip(".") or "code", "Coding_has_no_system__cannot_validate"))
    return None, issues


def _unknown_system(scope, vs, coding, system, prefix, facts) -> list:
    """Issues for a system the server does not know (relative, a value set's url, or just unknown)."""
    code, version, issues = coding.get("code"), coding.get("version"), []
    if vs is not None and scope.valueset(system) is not None:
        return [not_in_vs(system, code, None, vs, prefix),
                issue("error", "invalid", "invalid-data", f"The Coding references a value set, not a code system "
                      f"('{system}')", path(prefix, "system"), "Terminology_TX_System_ValueSet2")]
    if ":" not in system:
        issues.append(issue("error", "invalid", "invalid-data", "Coding.system must be an absolute reference, not a "
                            "local reference", path(prefix, "system"), "Terminology_TX_System_Relative"))
    if vs is not None and system not in _systems_of(vs):
        issues.append(not_in_vs(system, code, None, vs, prefix, version))
        facts["unknown-system-outside-vs"] = system
    if version:
        text, message_id = (f"A definition for CodeSystem '{system}' version '{version}' could not be found, so the "
                            "code cannot be validated. No versions of this code system are known",
                            "UNKNOWN_CODESYSTEM_VERSION_NONE")
    else:
        text, message_id = (f"A definition for CodeSystem '{system}' could not be found, so the code cannot be "
                            "validated", "UNKNOWN_CODESYSTEM")
    issues.append(issue("error", "not-found", "not-found", text, path(prefix, "system"), message_id))
    facts["unknown-system"] = system
    return issues


def _status_issues(cs, concept, vs, prefix) -> list:
    """Warnings for a deprecated concept, in the code system or in the value set's own listing of it."""
    out = []
    if concept.status == "deprecated" and not concept.inactive:
        out.append(issue("warning", "business-rule", "code-comment", f"The concept '{concept.code}' is deprecated and "
                         "its use should be reviewed", path(prefix, "code"), "DEPRECATED_CONCEPT_FOUND"))
    entry = vs_entries(vs).get((cs.url, concept.code)) if vs is not None else None
    flags = {(e.get("url"), e.get("valueBoolean", e.get("valueCode"))) for e in (entry or {}).get("extension") or []
             if isinstance(e, dict)}
    if flags & DEPRECATED_IN_VS:
        out.append(issue("warning", "business-rule", "code-comment", f"The presence of the concept '{concept.code}' in "
                         f"the system '{cs.url}' in the value set {vs_ref(vs)} is marked with a status of deprecated "
                         "and its use should be reviewed", path(prefix, "code"), "CONCEPT_DEPRECATED_IN_VALUESET"))
    return out


def check_coding(scope, vs, coding, prefix, cs_url, infer, rules, options):
    """(valid, issues, facts) for one coding."""
    issues, facts = [], {}
    code, system = coding.get("code"), coding.get("system") or cs_url
    if not system and vs is not None:
        system, issues = _infer_system(scope, vs, code, prefix, infer)
        if system is None:
            return False, issues, facts
    facts["system"], facts["code"] = system, code
    cs, version_issues = resolve_version(scope, vs, system, coding.get("version"), rules, prefix, facts, code,
                                         coding.get("display"))
    issues += version_issues
    version_issues = [i for i in version_issues if i["severity"] == "error"]
    if cs is None:
        return False, issues + _unknown_system(scope, vs, coding, system, prefix, facts), facts
    if cs.content == "supplement":
        facts["unknown-system"] = system
        return False, issues + [issue("error", "invalid", "invalid-data", f"CodeSystem {reference(cs.resource)} is a "
                                      "supplement, so can't be used as a value in Coding.system",
                                      path(prefix, "system"), "CODESYSTEM_CS_NO_SUPPLEMENT")], facts
    facts["resource"] = cs.resource
    if cs.version:
        facts["version"] = cs.version
    concept = cs.find(code)
    version_text = f" version '{cs.version}'" if cs.version else ""
    if concept is None:
        if cs.content == "fragment":
            issues.append(issue("warning", "code-invalid", "invalid-code", f"Unknown Code '{code}' in the CodeSystem "
                                f"'{cs.url}'{version_text} - note that the code system is labeled as a fragment, so the "
                                "code may be valid in some other fragment", path(prefix, "code"),
                                "UNKNOWN_CODE_IN_FRAGMENT"))
            return True, issues, facts
        if vs is not None:
            issues.append(not_in_vs(system, code, coding.get("display"), vs, prefix, coding.get("version")))
        if not options.membership_only:
            issues.append(issue("error", "code-invalid", "invalid-code", f"Unknown code '{code}' in the CodeSystem "
                                f"'{cs.url}'{version_text}", path(prefix, "code"), "Unknown_Code_in_Version"))
        return False, issues, facts
    if concept.display:
        facts["display"] = concept.display
    if concept.code != code:
        facts["normalized-code"] = concept.code
        issues.append(issue("information", "business-rule", "code-rule", f"The code '{code}' differs from the correct "
                            f"code '{concept.code}' by case. Although the code system '{cs.url}"
                            f"{'|' + cs.version if cs.version else ''}' is case insensitive, implementers are strongly "
                            "encouraged to use the correct case anyway", path(prefix or "Coding.", "code")
                            if prefix else "code", "CODE_CASE_DIFFERENCE"))
    forced = system in rules.force
    matched = vs is None or contains(scope, vs, cs.url, concept.code, None if forced else cs.version)
    if concept.abstract and options.abstract is False:
        matched = False
        issues.append(issue("error", "business-rule", "code-rule", f"Code '{cs.url}#{concept.code}' is abstract, and "
                            "not allowed in this context", path(prefix, "code"), "ABSTRACT_CODE_NOT_ALLOWED"))
    # found; a version problem is reported on its own, unless the value set's own pinned version is unknown
    facts["matched"] = matched or (bool(version_issues) and not facts.get("pinned-unknown"))
    valid = matched and not version_issues
    if concept.inactive:
        facts["inactive"], facts["status"] = True, concept.status
        issues.append(issue("warning", "business-rule", "code-comment", f"The concept '{concept.code}' has a status of "
                            f"{_status_text(concept)} and its use should be reviewed", prefix.rstrip(".") or "code",
                            "INACTIVE_CONCEPT_FOUND"))
        if scope.active_only or ((vs or {}).get("compose") or {}).get("inactive") is False:
            matched = valid = False
            issues.append(issue("error", "business-rule", "code-rule", f"The concept '{concept.code}' is valid but is "
                                "not active", path(prefix, "code"), "STATUS_CODE_WARNING_CODE"))
    elif concept.status == "deprecated":
        facts["status"] = "deprecated"
    if matched:
        issues += _status_issues(cs, concept, vs, prefix)
    if not matched and not version_issues:
        issues.append(not_in_vs(system, code, coding.get("display"), vs, prefix, coding.get("version")))
    display = coding.get("display")
    languages = parse_languages(scope.display_language)
    if concept.display:
        facts["display"] = pick_display(cs, concept, languages)
    if display and not version_issues and not options.membership_only:
        problem = check_display(cs, concept, display, languages, scope.lenient_display)
        if problem:
            severity, tx_type, message_id, text = problem
            valid = valid and severity != "error"
            issues.append(issue(severity, "invalid", tx_type, text, path(prefix, "display") if prefix else "display",
                                message_id))
    return valid, issues, facts


def _status_text(concept) -> str:
    return f"{concept.status} and inactive" if concept.status and concept.status != "inactive" else "inactive"
