"""The hook console: a CDS Hooks request built from a few choices (hook, payer, line of business, procedure codes,
diagnoses, patient conditions), and the answer read back as an EHR shows it (cards, coverage-information per order)."""

import uuid

from fhir_ire.data import load as load_data
from fhir_ire.uris import CRD_COVERAGE_INFORMATION, ICD10CM
from fhir_ire.web.ui_rules import verdict

PATIENT = "ui-patient"


def coverage_type(line: str | None) -> dict | None:
    """A Coverage.type the engine reads as this line of business: the broadest SOPT code that maps to it."""
    if not line:
        return None
    table = load_data("crd/lines-of-business.json")
    codes = sorted((len(lines), len(code), code) for code, lines in table["sopt"].items() if line in lines)
    if not codes:
        return None
    return {"coding": [{"system": table["systems"]["sopt"][0], "code": codes[0][2]}]}


def split_codes(values: list[str]) -> list[str]:
    """Codes from repeated or comma/space separated parameters, in order, without repeats."""
    return list(dict.fromkeys(c.strip() for v in values for c in v.replace(",", " ").split() if c.strip()))


def _bundle(kind: str, resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


def _order(n: int, system: str, code: str, diagnoses: list[str]) -> dict:
    sr = {"resourceType": "ServiceRequest", "id": f"order-{n}", "status": "draft", "intent": "order",
          "code": {"coding": [{"system": system, "code": code}]}, "subject": {"reference": f"Patient/{PATIENT}"}}
    if diagnoses:
        sr["reasonCode"] = [{"coding": [{"system": ICD10CM, "code": d}]} for d in diagnoses]
    return sr


def build_request(hook: str, payer: dict | None, line: str | None, orders: list[tuple[str, str]],
                  diagnoses: list[str], conditions: list[str]) -> dict:
    """A CDS Hooks request for hook. payer: {display, identifier?} of Coverage.payor, None for no Coverage;
    orders: (system, code) pairs, one ServiceRequest each."""
    srs = [_order(n, s, c, diagnoses) for n, (s, c) in enumerate(orders, start=1)]
    prefetch = {"patient": {"resourceType": "Patient", "id": PATIENT},
                "conditions": _bundle("searchset", [
                    {"resourceType": "Condition", "id": f"condition-{n}", "subject": {"reference": f"Patient/{PATIENT}"},
                     "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                              "condition-clinical", "code": "active"}]},
                     "code": {"coding": [{"system": ICD10CM, "code": c}]}} for n, c in enumerate(conditions, start=1)])}
    coverages = []
    if payer is not None:
        cov = {"resourceType": "Coverage", "id": "coverage-1", "status": "active",
               "beneficiary": {"reference": f"Patient/{PATIENT}"}, "payor": [payer]}
        if coverage_type(line):
            cov["type"] = coverage_type(line)
        coverages.append(cov)
    prefetch["coverage"] = _bundle("searchset", coverages)
    context = {"userId": "Practitioner/ui-console", "patientId": PATIENT}
    if hook == "order-dispatch":
        context.update(performer="Practitioner/ui-console", dispatchedOrders=[f"ServiceRequest/{s['id']}" for s in srs])
        prefetch["orders"] = _bundle("searchset", srs)
    elif hook == "appointment-book":
        context["appointments"] = _bundle("collection", [{
            "resourceType": "Appointment", "id": "appointment-1", "status": "proposed",
            "basedOn": [{"reference": f"ServiceRequest/{s['id']}"} for s in srs],
            "participant": [{"actor": {"reference": f"Patient/{PATIENT}"}, "status": "needs-action"}]}])
        prefetch["orders"] = _bundle("searchset", srs)
    else:
        context["draftOrders"] = _bundle("collection", srs)
        if hook == "order-select":
            context["selections"] = [f"ServiceRequest/{s['id']}" for s in srs]
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context, "prefetch": prefetch}


def coverage_rows(response: dict) -> list[dict]:
    """Each order the answer updates, with its coverage-information read into plain fields."""
    rows = []
    for action in response.get("systemActions") or []:
        res = action.get("resource") or {}
        for ext in res.get("extension") or []:
            if ext.get("url") != CRD_COVERAGE_INFORMATION:
                continue
            fields: dict = {}
            for sub in ext.get("extension") or []:
                value = next((v for k, v in sub.items() if k.startswith("value")), None)
                if sub.get("url") == "detail" or value is None:
                    continue
                if isinstance(value, dict):  # Reference, Coding or CodeableConcept
                    coding = (value.get("coding") or [{}])[0]
                    value = (value.get("reference") or value.get("text") or value.get("display") or value.get("code")
                             or coding.get("display") or coding.get("code") or str(value))
                fields.setdefault(sub["url"], []).append(value)
            codes = [c.get("code") for c in (res.get("code") or {}).get("coding") or []]
            det = {"covered": (fields.get("covered") or [None])[0], "pa-needed": (fields.get("pa-needed") or [None])[0],
                   "doc-purpose": fields.get("doc-purpose", [])}
            rows.append({"order": f"{res.get('resourceType')}/{res.get('id')}", "codes": codes, "verdict": verdict(det),
                         "description": action.get("description"), "fields": fields})
    return rows
