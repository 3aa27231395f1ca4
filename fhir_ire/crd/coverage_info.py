"""The CRD coverage-information extension for one order, shaped for CRD 2.2 or 2.0.1, with the invariants kept."""

import json
from datetime import date
from functools import lru_cache

import orjson

from fhir_ire.errors import FhirError
from fhir_ire.ids import new_uuid_hex
from fhir_ire.uris import CRD_COVERAGE_DETAIL, CRD_COVERAGE_INFORMATION, CRD_TEMP

CLINICAL_DOCS = {"clinical", "admin", "both"}
REASONS_201 = {"gold-card", "detail-code"}


def is_v2_0(request: dict) -> bool:
    """CRD 2.0.x clients (Inferno's suite) do not send davinci-crd.requestedVersion; 2.2 clients do."""
    version = (request.get("extension") or {}).get("davinci-crd.requestedVersion")
    return not version or str(version).startswith("2.0")


def check_version(request: dict, supported: list[str]) -> None:
    """A requestedVersion this service does not announce is refused (422), never answered in another shape."""
    version = (request.get("extension") or {}).get("davinci-crd.requestedVersion")
    if version is None:
        return
    if not isinstance(version, str) or ".".join(version.split(".")[:2]) not in supported:
        raise FhirError(f"davinci-crd.requestedVersion {json.dumps(version)} is not supported: this service answers "
                        f"CRD {', '.join(supported)}", status=422, code="not-supported",
                        expression=["extension.davinci-crd.requestedVersion"])


def shape(det: dict, hook: str, old: bool) -> tuple[list[dict], dict | None, bool]:
    """A determination as this hook and CRD version say it: its elements from `covered` to `info-needed`, its
    `reason` element (None when it has none), and whether documentation is asked. The same for every order a
    rule decides: worked out once per rule action (shaped_for), never changed after."""
    det = dict(det)  # the rule's determination serves every request: keys below are reassigned, never mutated
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
        det["reason"] = "See the coverage policy for details"
    ext = [{"url": "covered", "valueCode": det["covered"]}]
    if det.get("pa-needed"):
        ext.append({"url": "pa-needed", "valueCode": det["pa-needed"]})
    docs = det.get("doc-needed", [])
    if old and len(docs) > 1:
        docs = ["both"] if set(docs) <= {"clinical", "admin"} else docs[:1]
    ext += [{"url": "doc-needed", "valueCode": d} for d in docs]
    ext += [{"url": "doc-purpose", "valueCode": d} for d in det.get("doc-purpose", []) if docs]
    ext += [{"url": "info-needed", "valueCode": i} for i in det.get("info-needed", [])]
    reason = {"url": "reason", "valueCodeableConcept": _reason(det, old)} if det.get("reason") or \
        det.get("reason-code") else None
    return ext, reason, bool(docs)


def shaped_for(cache: dict, det: dict, hook: str, old: bool) -> tuple:
    """shape() of a rule action's determination, kept in the action's cache (four ways at most)."""
    key = (hook == "order-select", old)
    shaped = cache.get(key)
    if shaped is None:
        shaped = cache[key] = shape(det, hook, old)
    return shaped


@lru_cache(maxsize=1024)
def _shape_of(items: tuple, hook: str, old: bool) -> tuple:
    return shape(dict(items), hook, old)


def shaped_once(det: dict, hook: str, old: bool) -> tuple:
    """shape() of a determination made per call (indeterminate, technical, no active coverage: strings only),
    kept for the next call that makes the same one (at most 1,024 kept)."""
    items = tuple(det.items())
    if all(type(v) is str for _, v in items):
        return _shape_of(items, hook, old)
    return shape(det, hook, old)


def coverage_information(det: dict, coverage_ref: dict, hook: str, request: dict, assertion_id: str,
                         policy_url: str | None = None, billing: list[dict] = (), questionnaires: list[str] = (),
                         expiry: str | None = None, today: date | None = None, shaped: tuple | None = None,
                         old: bool | None = None) -> dict:
    """det: covered, pa-needed, doc-needed[], doc-purpose[], info-needed[], reason (text), reason-code (a CRD
    coverage-assertion reason such as `technical`); today: the day of the assertion (default: the date today);
    shaped: shape(det, hook, old) when the caller keeps it; old: is_v2_0(request) when the caller knows it."""
    old = is_v2_0(request) if old is None else old
    head, reason, docs = shaped or shape(det, hook, old)
    ext = [{"url": "coverage", "valueReference": coverage_ref}, *head]
    if billing:
        ext += [{"url": "billingCode", "valueCoding": c} for c in billing]
    if reason is not None:
        ext.append(reason)
    if policy_url:
        ext.append({"url": "detail", "extension": _policy_detail(policy_url, old)})
    if docs and questionnaires:  # crd-ci-q1: a questionnaire only where documentation is needed (resp-38)
        ext += [{"url": "questionnaire", "valueCanonical": q} for q in questionnaires]
    ext += [{"url": "date", "valueDate": (today or date.today()).isoformat()},
            {"url": "coverage-assertion-id", "valueString": assertion_id}]
    if expiry and not old:  # expiry-date is CRD 2.1+
        ext.append({"url": "expiry-date", "valueDate": expiry})
    return {"url": CRD_COVERAGE_INFORMATION, "extension": ext}


def _reason(det: dict, old: bool) -> dict:
    """A CRD reason code where one applies (2.0.1 knows only its own two), and the text."""
    cc = {}
    code = det.get("reason-code")
    if code and (not old or code in REASONS_201):
        cc["coding"] = [{"system": CRD_TEMP, "code": code}]
    cc["text"] = det.get("reason") or code
    return cc


def _policy_detail(url: str, old: bool) -> list[dict]:
    """The policy as a coverage-information detail: a url in 2.2; 2.0.1 has no url value type, so a string."""
    detail = [{"url": "code", "valueCodeableConcept": {"coding": [{"system": CRD_COVERAGE_DETAIL,
                                                                   "code": "policy-link"}]}},
              {"url": "value", "valueString": url} if old else {"url": "value", "valueUrl": url}]
    return detail if old else [{"url": "category", "valueCode": "cat-other"}, *detail]


def _canonical(value) -> bytes:
    """JSON text with sorted keys, to compare two values (orjson; the standard library for what it refuses)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, sort_keys=True).encode()


def same_assertion(a: dict, b: dict) -> bool:
    """Two coverage-information extensions say the same thing (all but their date and assertion id)."""
    def key(ext):
        return sorted(_canonical(e) for e in ext.get("extension") or []
                      if e.get("url") not in ("date", "coverage-assertion-id"))
    return key(a) == key(b)


def new_assertion_id() -> str:
    return new_uuid_hex()


def _coverage_of(ext: dict):
    return next((_canonical(e.get("valueReference")) for e in ext.get("extension") or []
                 if e.get("url") == "coverage"), None)


def with_extensions(order: dict, exts: list[dict]) -> dict:
    """The whole order, unchanged but for its coverage-information about these coverages, replaced by exts
    (CRD resp-37: nothing else changes; another coverage's assertion stays)."""
    out = dict(order)  # only the extension list is new; the rest is the request's own, encoded as it came
    held = out.get("extension")
    if not held:
        out["extension"] = list(exts)
        return out
    ours = {_coverage_of(e) for e in exts}
    out["extension"] = [e for e in held if e.get("url") != CRD_COVERAGE_INFORMATION or _coverage_of(e) not in ours] \
        + exts
    return out


def is_unchanged(order: dict, exts: list[dict]) -> bool:
    """The order already carries these assertions (CRD resp-35: then no update is sent again)."""
    held = [e for e in order.get("extension") or [] if isinstance(e, dict) and e.get("url") == CRD_COVERAGE_INFORMATION]
    return bool(held) and all(any(same_assertion(h, e) for h in held) for e in exts)
