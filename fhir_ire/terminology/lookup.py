"""CodeSystem/$lookup and CodeSystem/$subsumes."""

from fhir_ire.errors import InvalidRequest, NotFound
from fhir_ire.terminology.codesystems import CodeSystem
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.contains import PREFERRED_FOR_LANGUAGE
from fhir_ire.terminology.registry import Scope
from fhir_ire.terminology.supplements import SOURCE, reference


def _system_and_code(params: Params, instance: dict | None, code_name="code", coding_name="coding"):
    coding = params.coding(coding_name)
    code = params.text(code_name)
    if coding and code:
        raise InvalidRequest(f"Provide either {code_name} or {coding_name}, not both")
    system = params.text("system", "url")
    version = params.text("version")
    if coding:
        system, code, version = coding.get("system"), coding.get("code"), coding.get("version") or version
    if instance is not None:
        system = system or instance.get("url")
    if not code:
        raise InvalidRequest(f"Missing parameter '{code_name}' (or '{coding_name}')", code="required")
    if not system:
        raise InvalidRequest(f"Missing parameter 'system': a code needs its code system", code="required")
    return system, code, version


def find_codesystem(scope: Scope, system: str, version: str | None) -> CodeSystem:
    cs = scope.codesystem(system, version)
    if cs is None:
        ref = f"{system}|{version}" if version else system
        raise NotFound(f"A definition for CodeSystem '{ref}' could not be found", tx_issue_type="not-found")
    return cs


def _designation_parts(d: dict) -> list:
    parts = []
    if d.get("language"):
        parts.append({"name": "language", "valueCode": d["language"]})
    if d.get("use"):
        parts.append({"name": "use", "valueCoding": d["use"]})
    if d.get(SOURCE):
        parts.append({"name": "source", "valueCanonical": d[SOURCE]})
    parts.append({"name": "value", "valueString": d.get("value", "")})
    return parts


def lookup(scope: Scope, params: Params, instance: dict | None = None) -> dict:
    system, code, version = _system_and_code(params, instance)
    scope.check_supplements(params.texts("useSupplement"))
    cs = find_codesystem(scope, system, version)
    concept = cs.find(code)
    if concept is None:
        raise NotFound(f"Unknown code '{code}' in the CodeSystem '{cs.url}'" +
                       (f" version '{cs.version}'" if cs.version else ""), tx_issue_type="invalid-code")
    wanted = set(params.texts("property"))
    everything = not wanted or "*" in wanted

    def want(name):
        return everything or name in wanted

    out = [{"name": "name", "valueString": cs.name or cs.title or cs.url},
           {"name": "system", "valueUri": cs.url}, {"name": "code", "valueCode": concept.code}]
    if cs.version:
        out.append({"name": "version", "valueString": cs.version})
    out.append({"name": "display", "valueString": concept.display or concept.code})
    if concept.definition:
        out.append({"name": "definition", "valueString": concept.definition})
    if concept.abstract:
        out.append({"name": "abstract", "valueBoolean": True})
    own = (cs.resource or {}).get("language")
    shown = [{**({"language": own} if own else {}), "use": PREFERRED_FOR_LANGUAGE, "value": concept.display}] \
        if concept.display else []
    out += [{"name": "designation", "part": _designation_parts(d)} for d in shown + concept.designations]
    out += [{"name": "used-supplement", "valueCanonical": reference(s)} for s in cs.supplements]
    props = []
    for p in concept.properties:
        if p.get("code") in ("parent", "child") or not want(p.get("code")):
            continue
        key = next((k for k in p if k.startswith("value")), None)
        if key:
            props.append([{"name": "code", "valueCode": p["code"]}, {"name": "value", key: p[key]}])
    if want("inactive"):
        props.append([{"name": "code", "valueCode": "inactive"}, {"name": "value", "valueBoolean": concept.inactive}])
    for rel, codes in (("parent", concept.parents), ("child", concept.children)):
        if want(rel):
            for c in codes:
                other = cs.get(c)
                part = [{"name": "code", "valueCode": rel}, {"name": "value", "valueCode": c}]
                if other and other.display:
                    part.insert(1, {"name": "description", "valueString": other.display})
                props.append(part)
    out += [{"name": "property", "part": p} for p in props]
    return {"resourceType": "Parameters", "parameter": out}


def subsumes(scope: Scope, params: Params, instance: dict | None = None) -> dict:
    coding_a, coding_b = params.coding("codingA"), params.coding("codingB")
    code_a = params.text("codeA") or (coding_a or {}).get("code")
    code_b = params.text("codeB") or (coding_b or {}).get("code")
    system = params.text("system") or (coding_a or {}).get("system") or (instance or {}).get("url")
    if coding_a and coding_b and coding_a.get("system") != coding_b.get("system"):
        raise InvalidRequest("codingA and codingB are from different code systems")
    if not code_a or not code_b:
        raise InvalidRequest("Provide codeA and codeB (or codingA and codingB)", code="required")
    if not system:
        raise InvalidRequest("Missing parameter 'system'", code="required")
    cs = find_codesystem(scope, system, params.text("version"))
    a, b = cs.find(code_a), cs.find(code_b)
    for code, concept in ((code_a, a), (code_b, b)):
        if concept is None:
            raise NotFound(f"Unknown code '{code}' in the CodeSystem '{cs.url}'", tx_issue_type="invalid-code")
    if a.code == b.code:
        outcome = "equivalent"
    elif cs.is_a(b.code, a.code):
        outcome = "subsumes"
    elif cs.is_a(a.code, b.code):
        outcome = "subsumed-by"
    else:
        outcome = "not-subsumed"
    return {"resourceType": "Parameters", "parameter": [{"name": "outcome", "valueCode": outcome}]}
