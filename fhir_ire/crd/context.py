"""What a hook request says: the orders, their codes, the coverage and payer, line of business, conditions.
Missing prefetch is read from the EHR's FHIR server (allow-listed only, bearer token, bounded time and size)."""

import re

from fhir_ire.crd import ehr
from fhir_ire.data import load as load_data
from fhir_ire.limits import Limits
from fhir_ire.uris import CRD_BILLING_OPTIONS, normalize_system

ORDER_TYPES = {"ServiceRequest", "DeviceRequest", "MedicationRequest", "CommunicationRequest", "NutritionOrder",
               "VisionPrescription"}
NOT_FOUND = {"the FHIR server answered HTTP 404", "the FHIR server answered HTTP 410"}
RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


def lob_data() -> dict:
    return load_data("crd/lines-of-business.json")


class Fetcher:
    """Reads from the request's fhirServer when it is allow-listed (fhir_ire/crd/ehr.py says how, safely); records
    what could not be read."""

    def __init__(self, request: dict, allowed: list[str], limits: Limits | None = None):
        server = request.get("fhirServer")
        self.server = server.rstrip("/") if isinstance(server, str) else ""
        auth = request.get("fhirAuthorization")
        token = auth.get("access_token") if isinstance(auth, dict) else None
        self.token = token if isinstance(token, str) else None
        self.allowed_list = list(allowed)
        self.allowed = bool(self.server) and ehr.is_allowed(self.server, allowed)
        self.limits = limits or Limits()
        self.gaps: list[str] = []
        self.failures: dict[str, str] = {}  # what -> why, for technical failures only (CRD resp-43)

    def get(self, path: str, what: str):
        if not self.server:
            self.gaps.append(f"{what}: not prefetched and no fhirServer given")
            return None
        if not self.allowed:
            self.gaps.append(f"{what}: not prefetched, and the FHIR server is not on this service's allow-list")
            return None
        try:
            return ehr.get_json(f"{self.server}/{path}", self.token, self.allowed_list,
                                self.limits.fhir_server_max_bytes, self.limits.fhir_server_timeout)
        except ehr.FetchRefused as e:
            self.gaps.append(f"{what}: {e}")
            if str(e) not in NOT_FOUND:  # the server failed, refused or misbehaved: a technical failure
                self.failures[what] = str(e)
            return None


def relative(ref, server: str = "") -> str:
    """`Type/id` for a relative reference, or for an absolute one on the request's FHIR server; else unchanged."""
    if not isinstance(ref, str):
        return ""
    if server and ref.startswith(server + "/"):
        ref = ref[len(server) + 1:]
    elif "://" in ref:
        tail = "/".join(ref.rstrip("/").split("/")[-2:])
        return tail if RELATIVE_REFERENCE.match(tail) else ref
    return ref


def read_reference(fetcher: Fetcher, ref: str, what: str):
    """Only references on the request's FHIR server (Type/id) are read from it; anything else is a gap."""
    ref = relative(ref, fetcher.server) if ref and ref.startswith(fetcher.server + "/") else ref
    if not RELATIVE_REFERENCE.match(ref or ""):
        fetcher.gaps.append(f"{what}: not prefetched, and not a relative reference this service reads")
        return None
    return fetcher.get(ref, what)


def resources_of(value) -> list[dict]:
    """A prefetch value (resource, searchset Bundle, null, OperationOutcome) as a list of resources."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        return [e["resource"] for e in value.get("entry") or [] if isinstance(e, dict) and
                isinstance(e.get("resource"), dict)]
    if value.get("resourceType") == "OperationOutcome":
        return []
    return [value]


def prefetched(request: dict, key: str, path: str, what: str, fetcher: Fetcher) -> list[dict]:
    prefetch = request.get("prefetch") or {}
    if key in prefetch and prefetch[key] is None:
        return []  # CDS Hooks: null means the client has no such data; an absent key means it did not fetch
    if key in prefetch and isinstance(prefetch[key], dict) and prefetch[key].get("resourceType") != "OperationOutcome":
        return resources_of(prefetch[key])
    return resources_of(fetcher.get(path, what))


def order_codings(order: dict) -> list[dict]:
    """The order's codes and its CRD billing options, systems normalised."""
    codings = []
    for cc in [order.get("code") or {}, *(order.get("serviceType") or [])]:
        for c in cc.get("coding") or []:
            codings.append({**c, "system": normalize_system(c.get("system"))})
        for ext in cc.get("extension") or []:
            if ext.get("url") == CRD_BILLING_OPTIONS:
                for c in (ext.get("valueCodeableConcept") or {}).get("coding") or []:
                    codings.append({**c, "system": normalize_system(c.get("system"))})
    for ext in order.get("extension") or []:
        if ext.get("url") == CRD_BILLING_OPTIONS:
            for c in (ext.get("valueCodeableConcept") or {}).get("coding") or []:
                codings.append({**c, "system": normalize_system(c.get("system"))})
    return codings


def reason_codings(order: dict) -> list[dict]:
    return [{**c, "system": normalize_system(c.get("system"))} for cc in order.get("reasonCode") or []
            for c in cc.get("coding") or []]


def draft_orders(request: dict) -> list[dict]:
    return [r for r in resources_of((request.get("context") or {}).get("draftOrders"))
            if r.get("resourceType") in ORDER_TYPES]


def orders(request: dict, fetcher: Fetcher) -> list[dict]:
    """The orders the hook is about: draft orders, dispatched orders, or the ServiceRequests behind appointments."""
    ctx, hook = request.get("context") or {}, request.get("hook")
    if hook in ("order-sign", "order-select"):
        drafts = draft_orders(request)
        if hook == "order-select" and ctx.get("selections"):
            chosen = set(ctx["selections"])
            return [r for r in drafts if f"{r['resourceType']}/{r.get('id')}" in chosen] or drafts
        return drafts
    if hook == "order-dispatch":
        dispatched = ctx.get("dispatchedOrders")
        if isinstance(dispatched, dict):  # some CRD examples send the dispatched orders as a Bundle of resources
            return [r for r in resources_of(dispatched) if r.get("resourceType") in ORDER_TYPES]
        refs = dispatched or ([ctx["order"]] if ctx.get("order") else [])
        known = {f"{r.get('resourceType')}/{r.get('id')}": r for key in ("orders", "order", "serviceRequests")
                 for r in resources_of((request.get("prefetch") or {}).get(key))}
        out = []
        for ref in refs:
            out.append(known.get(relative(ref)) or read_reference(fetcher, ref, f"order {ref}"))
        return [o for o in out if isinstance(o, dict) and o.get("resourceType") in ORDER_TYPES]
    if hook == "appointment-book":
        appts = resources_of(ctx.get("appointments"))
        known = {f"{r.get('resourceType')}/{r.get('id')}": r for key in ("orders", "serviceRequests")
                 for r in resources_of((request.get("prefetch") or {}).get(key))}
        out = []
        for appt in appts:
            refs = [b.get("reference") for b in appt.get("basedOn") or [] if b.get("reference")]
            read = [known.get(relative(ref)) or read_reference(fetcher, ref, f"order {ref}") for ref in refs]
            found = [o for o in read if isinstance(o, dict) and o.get("resourceType") in ORDER_TYPES]
            # an appointment without an order carries its own serviceType codes; one whose orders cannot be read is
            # answered on the appointment itself (the order cannot be echoed unseen, CRD resp-37)
            out += found or [appt]
        return out
    return []


def lines_of_business(coverage: dict | None) -> list[str]:
    data, out = lob_data(), []
    for c in ((coverage or {}).get("type") or {}).get("coding") or []:
        system, code = c.get("system"), str(c.get("code") or "")
        if system in data["systems"]["sopt"]:  # the longest prefix of the code that the table has
            prefix = next((code[:n] for n in range(len(code), -1, -1) if code[:n] in data["sopt"]), None)
            out += data["sopt"].get(prefix, []) if prefix else []
        elif system in data["systems"]["actcode"]:
            out += data["actcode"].get(code, [])
    return list(dict.fromkeys(out))
