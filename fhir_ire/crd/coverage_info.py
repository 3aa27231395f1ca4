"""The CRD coverage-information extension for one order, shaped for CRD 2.2 or 2.0.1, with the invariants kept."""

import copy
import uuid
from datetime import date

from fhir_ire.uris import CRD_COVERAGE_INFORMATION

CLINICAL_DOCS = {"clinical", "admin", "both"}


def is_v2_0(request: dict) -> bool:
    """CRD 2.0.x clients (Inferno's suite) do not send davinci-crd.requestedVersion; 2.2 clients do."""
    version = (request.get("extension") or {}).get("davinci-crd.requestedVersion")
    return not version or str(version).startswith("2.0")


def coverage_information(det: dict, coverage_ref: str, hook: str, request: dict, assertion_id: str,
                         policy_url: str | None = None) -> dict:
    """det: covered, pa-needed, doc-needed[], doc-purpose[], info-needed[], reason (text)."""
    det = copy.deepcopy(det)
    old = is_v2_0(request)
    if hook == "order-select":  # a secondary hook never asks for clinical or administrative documentation
        det["doc-needed"] = [d for d in det.get("doc-needed", []) if d not in CLINICAL_DOCS]
        if not det["doc-needed"]:
            det.pop("doc-purpose", None)
    if old and det.get("covered") == "indeterminate":  # 2.0.1 has no indeterminate
        det["covered"], det["pa-needed"] = "conditional", "conditional"
        det["info-needed"] = ["OTH"]
    if old:  # 2.0.1 has no indeterminate or patient documentation, and doc-needed is 0..1
        det["doc-needed"] = list(dict.fromkeys("conditional" if d == "indeterminate" else d
                                               for d in det.get("doc-needed", []) if d != "patient"))
        if det.get("pa-needed") == "indeterminate":
            det["pa-needed"] = "conditional"
    if det.get("covered") == "not-covered":
        det.pop("pa-needed", None)
    elif old and not det.get("pa-needed"):
        det["pa-needed"] = "conditional"
    if det.get("pa-needed") in ("no-auth", "satisfied"):  # crd-ci-q4: no documentation for an auth not needed
        det["doc-purpose"] = [p for p in det.get("doc-purpose", []) if p != "withpa"]
    if not det.get("doc-needed"):
        det.pop("doc-purpose", None)
    values = [det.get("covered"), det.get("pa-needed"), *det.get("doc-needed", [])]
    if "conditional" in values and not det.get("info-needed"):
        det["info-needed"] = ["OTH"]
    if not det.get("reason") and (det.get("doc-purpose") or "OTH" in det.get("info-needed", [])
                                  or "indeterminate" in values):
        det["reason"] = "See the coverage card for details"
    ext = [{"url": "coverage", "valueReference": {"reference": coverage_ref}},
           {"url": "covered", "valueCode": det["covered"]}]
    if det.get("pa-needed"):
        ext.append({"url": "pa-needed", "valueCode": det["pa-needed"]})
    docs = det.get("doc-needed", [])
    if old and len(docs) > 1:
        docs = ["both"] if set(docs) <= {"clinical", "admin"} else docs[:1]
    ext += [{"url": "doc-needed", "valueCode": d} for d in docs]
    ext += [{"url": "doc-purpose", "valueCode": d} for d in det.get("doc-purpose", []) if docs]
    ext += [{"url": "info-needed", "valueCode": i} for i in det.get("info-needed", [])]
    if det.get("reason"):
        ext.append({"url": "reason", "valueCodeableConcept": {"text": det["reason"]}})
    if policy_url:
        detail = [{"url": "code", "valueCodeableConcept": {"coding": [
            {"system": "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp", "code": "policy-link"}]}},
                  {"url": "value", "valueUrl": policy_url}]
        if not old:
            detail.insert(0, {"url": "category", "valueCode": "cat-other"})
        ext.append({"url": "detail", "extension": detail})
    ext += [{"url": "date", "valueDate": date.today().isoformat()},
            {"url": "coverage-assertion-id", "valueString": assertion_id}]
    return {"url": CRD_COVERAGE_INFORMATION, "extension": ext}


def new_assertion_id() -> str:
    return uuid.uuid4().hex


def with_extension(order: dict, ext: dict) -> dict:
    """The whole order, unchanged but for the appended coverage-information extension."""
    out = copy.deepcopy(order)
    out["extension"] = [e for e in out.get("extension") or [] if e.get("url") != CRD_COVERAGE_INFORMATION] + [ext]
    return out
