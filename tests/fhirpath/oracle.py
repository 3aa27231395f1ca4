"""The oracle: fhirpathpy and the compiled closures must give the same answer (or both fail) on the same data.
Also the hook variables of every recorded request, built as the engine builds them."""

import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import fhirpathpy

from fhir_ire.crd.context import (Fetcher, draft_orders, lines_of_business, order_codings, orders, prefetched,
                                  reason_codings)

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "crd" / "fixtures"
HOOKS = {"order-sign", "order-select", "order-dispatch", "appointment-book"}


def like_fhirpathpy(value):
    """fhirpathpy's output conversion (floats as Decimal, primitive-extension-only objects dropped from lists)."""
    if isinstance(value, list):
        return [like_fhirpathpy(v) for v in value if not (isinstance(v, dict) and list(v) == ["extension"])]
    if isinstance(value, dict):
        return {k: like_fhirpathpy(v) for k, v in value.items()}
    return Decimal(str(value)) if isinstance(value, float) else value


def outcome(fn, env):
    try:
        return like_fhirpathpy(fn({}, env))
    except Exception as e:  # noqa: BLE001 - both engines must fail on the same data; how they say it differs
        return ("fails", "error")


@lru_cache(maxsize=None)
def reference(text: str):
    return fhirpathpy.compile(text)


def oracle(text: str, env: dict):
    return outcome(lambda r, e: reference(text)(r, e), env)


def recorded_requests() -> list[dict]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        body = json.loads(path.read_text())
        if isinstance(body, dict) and body.get("hook") in HOOKS:
            out.append(body)
    return out


def hook_variables(request: dict, payer_id) -> list[dict]:
    """The variables the engine gives a rule, per ordered procedure (docs/rules.md), from one request."""
    hook = request["hook"]
    fetcher = Fetcher({}, [])  # no FHIR server: what is not prefetched is simply absent
    coverages = [c for c in prefetched(request, "coverage", "", "coverage", fetcher)
                 if c.get("resourceType") == "Coverage"]
    coverage = coverages[0] if coverages else None
    conditions = [c for c in prefetched(request, "conditions", "", "conditions", fetcher)
                  if c.get("resourceType") == "Condition"]
    payer = next(({"resourceType": "Organization", "name": p["display"]} for p in (coverage or {}).get("payor") or []
                  if p.get("display")), None)  # the engine gives the matched payer Organization (crd/payers.py)
    all_orders = orders(request, fetcher)
    drafts = draft_orders(request) if hook in ("order-sign", "order-select") else all_orders
    envs = []
    for order in all_orders:
        others = [o for o in drafts if o is not order]
        envs.append({"order": order, "orderCodes": order_codings(order), "reasonCodes": reason_codings(order),
                     "coverage": [coverage] if coverage else [], "payer": [payer] if payer else [],
                     "payerId": [payer_id] if payer_id else [], "linesOfBusiness": lines_of_business(coverage),
                     "conditions": conditions, "draftOrders": others,
                     "draftCodes": [c for o in others for c in order_codings(o)], "hook": hook})
    return envs
