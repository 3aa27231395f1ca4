"""CodeSystem/$validate-code and ValueSet/$validate-code: "not valid" is a result=false answer, not an error."""

from fhir_ire.errors import FhirError, InvalidRequest
from fhir_ire.terminology.languages import check_display, parse_languages, pick_display
from fhir_ire.terminology.lookup import find_codesystem
from fhir_ire.terminology.outcome import error_outcome, issue, outcome
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.registry import Scope
from fhir_ire.terminology.status import status_issues
from fhir_ire.terminology.valuesets import check_imports, contains, evaluate, required_supplements, resolve_valueset
from fhir_ire.terminology.versions import VersionRules, resolve_version


def _inputs(params: Params, vs_mode: bool):
    code, coding, cc = params.text("code"), params.coding("coding"), params.codeable_concept("codeableConcept")
    given = [x for x in (code, coding, cc) if x]
    if not given:
        raise InvalidRequest("Unable to find code to validate (looked for coding | codeableConcept | code+system | "
                             "code+inferSystem in parameters")
    if len(given) > 1:
        raise InvalidRequest("Provide only one of code, coding or codeableConcept")
    if code:
        version = params.text("systemVersion" if vs_mode else "version") or params.text("version")
        return "code", [({"system": params.text("system"), "version": version, "code": code,
                          "display": params.text("display")}, "")]
    if coding:
        return "coding", [(coding, "Coding.")]
    if not isinstance(cc, dict):
        raise InvalidRequest("codeableConcept must be a CodeableConcept")
    return "cc", [(c, f"CodeableConcept.coding[{i}].") for i, c in enumerate(cc.get("coding") or [])]


def _path(prefix: str, name: str) -> str:
    return prefix + name if prefix else name


def _vs_ref(vs: dict) -> str:
    return f"{vs.get('url')}|{vs['version']}" if vs.get("version") else str(vs.get("url"))


def _systems_of(vs: dict) -> set:
    compose = vs.get("compose") or {}
    return {i.get("system") for i in (compose.get("include") or []) + (compose.get("exclude") or [])}


def _not_in_vs(system, code, display, vs, prefix):
    shown = f"{system}#{code}" + (f" ('{display}')" if display else "")
    text = f"The provided code '{shown}' was not found in the value set '{_vs_ref(vs)}'"
    if prefix.startswith("CodeableConcept"):
        return issue("information", "code-invalid", "this-code-not-in-vs", text, _path(prefix, "code"),
                     "None_of_the_provided_codes_are_in_the_value_set_one")
    return issue("error", "code-invalid", "not-in-vs", text, _path(prefix, "code"),
                 "None_of_the_provided_codes_are_in_the_value_set_one")


def _check_coding(scope, vs, coding, prefix, cs_url, infer, rules):
    """(valid, issues, facts) for one coding."""
    issues, facts = [], {}
    code, system = coding.get("code"), coding.get("system") or cs_url
    if not system and vs is not None:
        systems = sorted({cs.url for cs, c in evaluate(scope, vs, {}) if c.code == code})
        if len(systems) == 1 and infer:
            system = systems[0]
        else:
            why = f": value set expansion has multiple matches: [{', '.join(systems)}]" if len(systems) > 1 else ""
            issues.append(issue("error", "code-invalid", "not-in-vs", f"The provided code '#{code}' was not found in "
                                f"the value set '{_vs_ref(vs)}'", _path(prefix, "code"),
                                "None_of_the_provided_codes_are_in_the_value_set_one"))
            if infer:
                issues.append(issue("error", "not-found", "cannot-infer", f"The System URI could not be determined for "
                                    f"the code '{code}' in the ValueSet '{_vs_ref(vs)}'{why}", _path(prefix, "code"),
                                    "Unable_to_resolve_system__value_set_has_multiple_matches" if why else None))
            else:
                issues.append(issue("warning", "invalid", "invalid-data", "Coding has no system. A code with no system "
                                    "has no defined meaning, and it cannot be validated. A system should be provided",
                                    prefix.rstrip(".") or "code", "Coding_has_no_system__cannot_validate"))
            return False, issues, facts
    facts["system"], facts["code"] = system, code
    cs, version_issues = resolve_version(scope, vs, system, coding.get("version"), rules, prefix, facts, code)
    issues += version_issues
    version_issues = [i for i in version_issues if i["severity"] == "error"]
    if cs is None:
        text = f"A definition for CodeSystem '{system}' could not be found, so the code cannot be validated"
        if vs is not None and system not in _systems_of(vs):
            issues.append(issue("error", "code-invalid", "not-in-vs", f"The provided code '{system}#{code}' was not "
                                f"found in the value set '{_vs_ref(vs)}'", _path(prefix, "code"),
                                "None_of_the_provided_codes_are_in_the_value_set_one"))
            text = text.replace(f"'{system}'", system)
            facts["unknown-system-outside-vs"] = system
        issues.append(issue("error", "not-found", "not-found", text, _path(prefix, "system"), "UNKNOWN_CODESYSTEM"))
        facts["unknown-system"] = system
        return False, issues, facts
    facts["resource"] = cs.resource
    if cs.version:
        facts["version"] = cs.version
    concept = cs.find(code)
    version_text = f" version '{cs.version}'" if cs.version else ""
    if concept is None:
        if cs.content == "fragment":
            issues.append(issue("warning", "code-invalid", "invalid-code", f"Unknown Code '{code}' in the CodeSystem "
                                f"'{cs.url}'{version_text} - note that the code system is labeled as a fragment, so the "
                                "code may be valid in some other fragment", _path(prefix, "code"),
                                "UNKNOWN_CODE_IN_FRAGMENT"))
            return True, issues, facts
        if vs is not None:
            issues.append(_not_in_vs(system, code, coding.get("display"), vs, prefix))
        issues.append(issue("error", "code-invalid", "invalid-code", f"Unknown code '{code}' in the CodeSystem "
                            f"'{cs.url}'{version_text}", _path(prefix, "code"), "Unknown_Code_in_Version"))
        return False, issues, facts
    if concept.display:
        facts["display"] = concept.display
    if concept.code != code:
        facts["normalized-code"] = concept.code
        issues.append(issue("information", "business-rule", "code-rule", f"The code '{code}' differs from the correct "
                            f"code '{concept.code}' by case. Although the code system '{cs.url}"
                            f"{'|' + cs.version if cs.version else ''}' is case insensitive, implementers are strongly "
                            "encouraged to use the correct case anyway", _path(prefix or "Coding.", "code")
                            if prefix else "code", "CODE_CASE_DIFFERENCE"))
    forced = system in rules.force
    matched = vs is None or contains(scope, vs, cs.url, concept.code, None if forced else cs.version)
    facts["matched"] = matched or bool(version_issues)  # found; the version problem is reported on its own
    valid = matched and not version_issues
    if concept.inactive:
        facts["inactive"], facts["status"] = True, concept.status
        issues.append(issue("warning", "business-rule", "code-comment", f"The concept '{concept.code}' has a status of "
                            f"{_status_text(concept)} and its use should be reviewed", prefix.rstrip(".") or "code",
                            "INACTIVE_CONCEPT_FOUND"))
        if scope.active_only or ((vs or {}).get("compose") or {}).get("inactive") is False:
            matched = valid = False
            issues.append(issue("error", "business-rule", "code-rule", f"The concept '{concept.code}' is valid but is "
                                "not active", _path(prefix, "code"), "STATUS_CODE_WARNING_CODE"))
    if not matched and not version_issues:
        issues.append(_not_in_vs(system, code, coding.get("display"), vs, prefix))
    display = coding.get("display")
    languages = parse_languages(scope.display_language)
    if concept.display:
        facts["display"] = pick_display(cs, concept, languages)
    problem = check_display(cs, concept, display, languages, scope.lenient_display) if display and valid else None
    if problem:
        severity, message_id, text = problem
        valid = valid and severity != "error"
        issues.append(issue(severity, "invalid", "invalid-display", text, _path(prefix, "display"), message_id))
    return valid, issues, facts


def validate_code(scope: Scope, params: Params, resource_type: str, instance: dict | None = None) -> dict:
    vs_mode = resource_type == "ValueSet"
    form, codings = _inputs(params, vs_mode)
    scope.rules = VersionRules.from_params(params)
    vs = resolve_valueset(scope, params, instance) if vs_mode else None
    scope.check_supplements(required_supplements(vs, params))
    if vs is not None and (missing := check_imports(scope, vs)):
        return _unresolved_imports(missing, form, params)
    cs_url = None
    if not vs_mode:
        cs_url = params.text("url") or (instance or {}).get("url")
        inline = params.get("codeSystem")
        if isinstance(inline, dict):
            scope.local["CodeSystem"].setdefault(inline.get("url"), []).insert(0, _as_cs(inline))
            cs_url = cs_url or inline.get("url")
        if not cs_url and form == "code":
            raise InvalidRequest("Provide the code system: url, codeSystem, or call on a CodeSystem instance",
                                 code="required")
        if cs_url and form == "code" and scope.codesystem(cs_url) is None and not params.text("system"):
            find_codesystem(scope, cs_url, params.text("version"))
    infer = form == "code" or params.flag("inferSystem")
    rules = scope.rules
    scope.display_language = params.text("displayLanguage")
    scope.lenient_display = params.flag("lenient-display-validation")
    scope.active_only = params.flag("activeOnly")
    results = [_check_coding(scope, vs, c, p, cs_url if form == "code" else None, infer, rules)
               for c, p in codings]
    issues = [i for _, iss, _ in results for i in iss]
    chosen = next((f for ok, _, f in results if ok), None) or next((f for _, _, f in results if f.get("matched")),
                                                                    None)
    valid = chosen is not None and not any(i["severity"] == "error" for i in issues) and \
        any(ok for ok, _, _ in results)
    if form == "cc" and chosen is None and vs is not None:
        issues.insert(0, issue("error", "code-invalid", "not-in-vs", "No valid coding was found for the value set "
                               f"'{_vs_ref(vs)}'", None, "TX_GENERAL_CC_ERROR_MESSAGE"))
    if valid:
        issues += status_issues(vs, [f["resource"] for ok, _, f in results if ok and f.get("resource")])
    first = chosen if form == "cc" else (results[0][2] if results else {})
    first = first or {}
    out = []
    if form != "cc":
        out.append({"name": "code", "valueCode": codings[0][0].get("code")})
    elif chosen:
        out.append({"name": "code", "valueCode": chosen.get("normalized-code") or chosen.get("code")})
    if first.get("display"):
        out.append({"name": "display", "valueString": first["display"]})
    if issues:
        out.append({"name": "issues", "resource": outcome(issues)})
    texts = [i["details"]["text"] for i in issues if i["severity"] == "error" or
             _tx_type(i) in ("invalid-display", "code-comment") or
             (i["severity"] == "warning" and _tx_type(i) != "vs-invalid" and not valid)]
    if texts:
        out.append({"name": "message", "valueString": "; ".join(texts)})
    if first.get("inactive"):
        out.append({"name": "inactive", "valueBoolean": True})
        if first.get("status") not in (None, "inactive"):
            out.append({"name": "status", "valueCode": first["status"]})
    if first.get("normalized-code"):
        out.append({"name": "normalized-code", "valueCode": first["normalized-code"]})
    out.append({"name": "result", "valueBoolean": valid})
    if first.get("system"):
        out.append({"name": "system", "valueUri": first["system"]})
    if first.get("version"):
        out.append({"name": "version", "valueString": first["version"]})
    if form == "cc":
        out.append({"name": "codeableConcept", "valueCodeableConcept": params.get("codeableConcept")})
    for _, _, f in results:
        if "unknown-system" in f:
            name = "x-unknown-system" if "unknown-system-outside-vs" in f else "x-caused-by-unknown-system"
            out.append({"name": name, "valueCanonical": f["unknown-system"]})
    return {"resourceType": "Parameters", "parameter": out}


def _status_text(concept) -> str:
    return f"{concept.status} and inactive" if concept.status and concept.status != "inactive" else "inactive"


def _unresolved_imports(missing: list[str], form: str, params: Params) -> dict:
    """result=false when the value set imports value sets the server cannot find."""
    issues = [issue("error", "not-found", "not-found", f"A definition for the value Set '{url}' could not be found",
                    None, "Unable_to_resolve_value_Set_") for url in missing]
    out = [{"name": "issues", "resource": outcome(issues)},
           {"name": "message", "valueString": "; ".join(i["details"]["text"] for i in issues)},
           {"name": "result", "valueBoolean": False}]
    if form == "cc":
        out.append({"name": "codeableConcept", "valueCodeableConcept": params.get("codeableConcept")})
    return {"resourceType": "Parameters", "parameter": out}


def _tx_type(i: dict) -> str | None:
    return next((c.get("code") for c in i.get("details", {}).get("coding", [])), None)


def _as_cs(resource):
    from fhir_ire.terminology.codesystems import ResourceCodeSystem
    return ResourceCodeSystem(resource)


def batch_validate_code(scope: Scope, params: Params, instance: dict | None = None) -> dict:
    """ValueSet/$batch-validate-code: each `validation` Parameters is validated with the request's other parameters."""
    shared = [(n, v) for n, v in params.items if n != "validation"]
    shared_types = {i: params.types[j] for i, j in enumerate(j for j, (n, _) in enumerate(params.items)
                                                             if n != "validation") if j in params.types}
    out = []
    for one in params.all("validation"):
        inner = Params.from_resource(one)
        merged = Params(shared + inner.items, {**shared_types, **{k + len(shared): t for k, t in inner.types.items()}})
        try:
            answer = validate_code(scope, merged, "ValueSet", instance)
        except FhirError as err:  # one bad item does not fail the batch
            answer = error_outcome(err)
        out.append({"name": "validation", "resource": answer})
    return {"resourceType": "Parameters", "parameter": out}
