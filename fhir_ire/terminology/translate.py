"""ConceptMap/$translate, forward and reverse, with R4 names and the R5 names the HL7 tests send."""

from fhir_ire.errors import InvalidRequest, NotFound
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.registry import Scope
from fhir_ire.uris import normalize_system

# R5 relationship -> R4 equivalence (and back), as the official converter does.
TO_R4 = {"related-to": "relatedto", "equivalent": "equivalent", "source-is-narrower-than-target": "wider",
         "source-is-broader-than-target": "narrower", "not-related-to": "disjoint"}
TO_R5 = {"relatedto": "related-to", "inexact": "related-to", "equivalent": "equivalent", "equal": "equivalent",
         "wider": "source-is-narrower-than-target", "subsumes": "source-is-narrower-than-target",
         "narrower": "source-is-broader-than-target", "specializes": "source-is-broader-than-target",
         "disjoint": "not-related-to", "unmatched": None}
NO_MATCH = {"unmatched", "disjoint"}


def _equivalence(target: dict) -> str:
    if target.get("equivalence"):
        return target["equivalence"]
    return TO_R4.get(target.get("relationship"), "relatedto")


def _first_coding(params: Params, names_code, names_system, names_coding, names_cc):
    code = params.text(*names_code)
    system = params.text(*names_system)
    coding = params.coding(*names_coding)
    cc = next((params.codeable_concept(n) for n in names_cc if params.has(n)), None)
    if coding:
        return [(coding.get("system"), coding.get("code"))]
    if isinstance(cc, dict):
        return [(c.get("system"), c.get("code")) for c in cc.get("coding") or []]
    if code:
        return [(system, code)]
    return []


def _maps(scope: Scope, params: Params, instance: dict | None) -> list[dict]:
    if instance is not None:
        return [instance]
    inline = params.get("conceptMap")
    if isinstance(inline, dict):
        return [inline]
    url = params.text("url")
    if url:
        found = scope.conceptmap(url, params.text("conceptMapVersion"))
        if found is None:
            raise NotFound(f"A definition for the ConceptMap '{url}' could not be found", tx_issue_type="not-found")
        return [found]
    return scope.conceptmaps()


def _origin(cm: dict) -> str:
    return f"{cm.get('url')}|{cm['version']}" if cm.get("version") else cm.get("url", "")


def _match(equivalence, target_system, target: dict, cm: dict, source=None) -> dict:
    concept = {"system": target_system, "code": target.get("code")}
    if target.get("display"):
        concept["display"] = target["display"]
    parts = [{"name": "equivalence", "valueCode": equivalence}, {"name": "concept", "valueCoding": concept}]
    relationship = TO_R5.get(equivalence)
    if relationship:
        parts.append({"name": "relationship", "valueCode": relationship})
    parts.append({"name": "originMap", "valueCanonical": _origin(cm)})
    if target.get("comment"):
        parts.append({"name": "message", "valueString": target["comment"]})
    if source:
        parts.append({"name": "source", "valueCoding": source})
    return {"name": "match", "part": parts}


def translate(scope: Scope, params: Params, instance: dict | None = None) -> dict:
    reverse = params.flag("reverse") or params.has("targetCode", "targetCoding", "targetCodeableConcept")
    if reverse and params.has("targetCode", "targetCoding", "targetCodeableConcept"):
        inputs = _first_coding(params, ("targetCode",), ("targetSystem",), ("targetCoding",), ("targetCodeableConcept",))
        other_system = params.text("sourceSystem", "system")
    else:
        inputs = _first_coding(params, ("code", "sourceCode"), ("system", "sourceSystem"), ("coding", "sourceCoding"),
                               ("codeableConcept", "sourceCodeableConcept"))
        other_system = params.text("targetsystem", "targetSystem")
    if not inputs:
        raise InvalidRequest("Provide the code to translate: code and system, coding or codeableConcept "
                             "(or sourceCode, targetCode ...)", code="required")
    if any(not code for _, code in inputs):
        raise InvalidRequest("A coding to translate has no code", code="required")
    other_system = normalize_system(other_system)
    matches = []
    for cm in _maps(scope, params, instance):
        for group in scope.conceptmap_groups(cm):  # indexed by code: only the asked codes' entries are looked at
            src_sys, tgt_sys = group.source, group.target
            for system, code in inputs:
                system = normalize_system(system)
                if not reverse:
                    if (system and src_sys and system != src_sys) or (other_system and tgt_sys != other_system):
                        continue
                    for el in group.by_code.get(code, ()) if isinstance(code, str) else ():
                        matches += [(_equivalence(t), tgt_sys, t, cm, None) for t in el.get("target") or []]
                else:
                    if (system and tgt_sys and system != tgt_sys) or (other_system and src_sys != other_system):
                        continue
                    for el, t in group.by_target.get(code, ()) if isinstance(code, str) else ():
                        matches.append((_equivalence(t), tgt_sys, t, cm, {"system": src_sys, "code": el.get("code")}))
    good = [m for m in matches if m[0] not in NO_MATCH]
    out = [_match(*m) for m in matches if m[0] != "unmatched"]
    result = [{"name": "result", "valueBoolean": bool(good)}]
    if not good:
        codes = ", ".join(f"{s}#{c}" if s else c for s, c in inputs)
        result.append({"name": "message", "valueString": f"No translations found for {codes}"})
    return {"resourceType": "Parameters", "parameter": out + result}
