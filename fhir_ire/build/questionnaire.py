"""DTR Questionnaires: what a payer's policy asks for before it covers a procedure (its criteria, the documents a
prior-authorization request or a claim must include), one R4 Questionnaire per coverage rule action that asks for
documentation. The action links it (a sub-action whose definitionCanonical is the Questionnaire), the hook engine
sends it in coverage-information `questionnaire` (CRD resp-38), and each item's quote is a Provenance of its own
(`targetElement` names the item)."""

from fhir_ire.build.context import BuildContext
from fhir_ire.build.provenance import fhir_id
from fhir_ire.facts import Source

ACTIVITY_TYPE = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type"
TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
PURPOSE = {"withpa": "with the prior authorization request", "withclaim": "with the claim",
           "withorder": "with the order", "retain-doc": "in the patient's record"}


def _determination(act: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ext in act.get("extension") or []:
        for sub in ext.get("extension") or []:
            out.setdefault(sub["url"], []).append(sub.get("valueCode", sub.get("valueString")))
    return out


def _group(link_id: str, text: str, items: list[dict], required: bool = True) -> dict:
    return {"id": link_id, "linkId": link_id, "text": text, "type": "group", "required": required, "item": items}


def attach(ctx: BuildContext, act: dict, title: str, publisher: str, focus: list[dict],
           criteria: list[tuple[str, Source]], documents: list[tuple[str, Source]], required: bool = True) -> None:
    """Build the Questionnaire of a determination action that asks for documentation (doc-needed), from the
    policy's criteria and the documents it asks for, each with its source; link it from the action (the id and url
    are given by collect(), from the rule's id). required: the documents must be included (a prior-authorization
    request 'must include'), not only may be requested."""
    det = _determination(act)
    if not det.get("doc-needed") or not (criteria or documents):
        return
    purpose = next((PURPOSE[p] for p in det.get("doc-purpose", []) if p in PURPOSE), "")
    groups, sources = [], {}
    if criteria:
        items = []
        for n, (text, src) in enumerate(criteria, start=1):
            items.append({"id": f"criterion-{n}", "linkId": f"criterion-{n}", "text": text.rstrip(" ;,"),
                          "type": "boolean", "required": True})
            sources[f"criterion-{n}"] = src
        groups.append(_group("criteria", "Coverage criteria of the policy: is each one met?", items))
    if documents:
        items = []
        for n, (text, src) in enumerate(documents, start=1):
            items.append({"id": f"document-{n}", "linkId": f"document-{n}", "text": text, "type": "attachment",
                          "required": required, "repeats": True})
            sources[f"document-{n}"] = src
        groups.append(_group("documents", ("Documentation to include" if required else "Documentation that may be "
                                           "requested") + (f" {purpose}" if purpose else ""), items, required))
    questionnaire = {"resourceType": "Questionnaire", "id": "", "url": "", "name": "", "title": title,
                     "status": "active", "experimental": False, "subjectType": ["Patient"], "publisher": publisher,
                     "description": f"What {publisher} asks for{(' ' + purpose) if purpose else ''}, from its "
                                    "documents (each item's quote is in its Provenance)",
                     "useContext": [{"code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type",
                                              "code": "focus"}, "valueCodeableConcept": {"coding": focus}}],
                     "item": groups}
    act.setdefault("action", []).append({
        "id": f"{act['id']}-documentation", "title": "Complete the documentation questionnaire",
        "type": {"coding": [{"system": ACTIVITY_TYPE, "code": "collect-information"}]}, "definitionCanonical": ""})
    act["_questionnaire"] = (questionnaire, sources)


def _item_source(ctx: BuildContext, src: Source, text: str) -> Source:
    """The quote of one item: its own line when the item is listed below the statement it belongs to (a prior
    authorization's 'must include:' list), else the statement's quote when it already holds the item's words."""
    if text.lower() in src.quote.lower():
        return src
    lines = ctx.content(src.file).decode("utf-8", "replace").splitlines()
    for n in range(src.line - 1, min(len(lines), src.end_line + 40)):
        if text.lower() in lines[n].lower():
            return Source(src.file, n + 1, n + 1, lines[n].strip())
    return src


def collect(ctx: BuildContext, rules: list[dict]) -> tuple[list[dict], list[dict]]:
    """The Questionnaires the rules' actions link (taken off the actions), and one Provenance per item."""
    questionnaires, provenance = [], []
    for rule in rules:
        for act in rule.get("action") or []:
            if "_questionnaire" not in act:
                continue
            questionnaire, sources = act.pop("_questionnaire")
            base = rule["id"].removeprefix("coverage-")
            qid = fhir_id(f"dtr-{base}" if base.endswith(act["id"]) else f"dtr-{base}-{act['id']}")
            questionnaire.update(id=qid, url=ctx.url("Questionnaire", qid),
                                 name="".join(w.capitalize() for w in qid.split("-"))[:60])
            next(a for a in act["action"] if a.get("definitionCanonical") == "")["definitionCanonical"] = \
                questionnaire["url"]
            questionnaires.append(questionnaire)
            items = {i["linkId"]: i["text"] for g in questionnaire["item"] for i in g["item"]}
            provenance += [_item_provenance(ctx, questionnaire, link_id, _item_source(ctx, src, items[link_id]))
                           for link_id, src in sources.items()]
    return questionnaires, provenance


def _item_provenance(ctx: BuildContext, questionnaire: dict, link_id: str, src: Source) -> dict:
    return {"resourceType": "Provenance", "id": fhir_id(f"prov-{questionnaire['id']}-{link_id}"),
            "target": [{"reference": f"Questionnaire/{questionnaire['id']}",
                        "extension": [{"url": TARGET_ELEMENT, "valueUri": link_id}]}],
            "recorded": ctx.recorded,
            "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                     "code": "CREATE"}]},
            "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "assembler"}]},
                       "who": {"display": "fhir-ire build"}}],
            "entity": [{"role": "quotation", "what": {"reference": f"DocumentReference/{ctx.doc_id(src.file)}",
                                                      "display": f"{src.cite()}: \"{src.quote[:900]}\""}}]}
