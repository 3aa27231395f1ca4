"""CodeSystem/$validate-code and ValueSet/$validate-code: "not valid" is a result=false answer, not an error."""

from fhir_ire.errors import FhirError, InvalidRequest
from fhir_ire.terminology.coding import check_coding, vs_ref
from fhir_ire.terminology.languages import parse_languages, value_set_parameters
from fhir_ire.terminology.lookup import find_codesystem
from fhir_ire.terminology.outcome import error_outcome, issue, outcome
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.registry import Scope
from fhir_ire.terminology.status import status_issues
from fhir_ire.terminology.valuesets import check_imports, imported_valuesets, required_supplements, resolve_valueset
from fhir_ire.terminology.versions import VersionRules


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


class Options:
    """Request switches that change how each coding is judged."""

    def __init__(self, params: Params):
        self.membership_only = params.flag("valueset-membership-only")
        self.abstract = params.flag("abstract", default=None)


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
    scope.display_language = params.text("displayLanguage") or _default_language(vs)
    parse_languages(scope.display_language)  # a malformed language is a 400 before any work
    scope.lenient_display = params.flag("lenient-display-validation")
    scope.active_only = params.flag("activeOnly")
    options = Options(params)
    results = [check_coding(scope, vs, c, p, cs_url if form == "code" else None, infer, rules, options)
               for c, p in codings]
    issues = [i for _, iss, _ in results for i in iss]
    chosen = next((f for ok, _, f in results if ok), None) or next((f for _, _, f in results if f.get("matched")),
                                                                    None)
    valid = chosen is not None and not any(i["severity"] == "error" for i in issues) and \
        any(ok for ok, _, _ in results)
    if form == "cc" and chosen is None and vs is not None and not any(f.get("pinned-unknown") for _, _, f in results):
        issues.insert(0, issue("error", "code-invalid", "not-in-vs", "No valid coding was found for the value set "
                               f"'{vs_ref(vs)}'", None, "TX_GENERAL_CC_ERROR_MESSAGE"))
    if valid:
        relied = (imported_valuesets(scope, vs) if vs is not None else []) + \
            [f["resource"] for ok, _, f in results if ok and f.get("resource")]
        issues += status_issues(vs, relied)
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
    texts = [i["details"]["text"] for i in issues if _message_id(i) != "CONCEPT_DEPRECATED_IN_VALUESET" and (
             i["severity"] == "error" or _tx_type(i) in ("invalid-display", "code-comment") or
             (i["severity"] == "warning" and _tx_type(i) != "vs-invalid" and not valid))]
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


def _default_language(vs: dict | None) -> str | None:
    """A value set's own language, or the displayLanguage its compose asks for, when the request names none."""
    if vs is None:
        return None
    return value_set_parameters(vs).get("displayLanguage") or vs.get("language")


def _message_id(i: dict) -> str | None:
    return next((e.get("valueString") for e in i.get("extension") or []), None)


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
    """ValueSet/$batch-validate-code: each `validation` Parameters is validated with the request's other parameters
    (its own parameters first, so they override the shared ones)."""
    shared = [(n, v) for n, v in params.items if n != "validation"]
    shared_types = {i: params.types[j] for i, j in enumerate(j for j, (n, _) in enumerate(params.items)
                                                             if n != "validation") if j in params.types}
    out = []
    for one in params.all("validation"):
        inner = Params.from_resource(one)
        merged = Params(inner.items + shared, {**inner.types, **{k + len(inner.items): t for k, t in shared_types.items()}})
        try:
            answer = validate_code(scope, merged, "ValueSet", instance)
        except FhirError as err:  # one bad item does not fail the batch
            answer = error_outcome(err)
        out.append({"name": "validation", "resource": answer})
    return {"resourceType": "Parameters", "parameter": out}
