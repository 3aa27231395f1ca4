"""decide(): a CDS Hooks request in, cards and coverage-information system actions out. Generic: every payer,
code and amount comes from the PlanDefinitions, Organizations and ChargeItemDefinitions in the bundles."""

import copy
import logging
from urllib.parse import quote

from fhir_ire import budget
from fhir_ire.crd import cards as card_of
from fhir_ire.crd.context import (Fetcher, draft_orders, lines_of_business, order_codings, orders, payer_names, prefetched,
                                  reason_codings)
from fhir_ire.crd.coverage_info import coverage_information, is_v2_0, new_assertion_id, with_extension
from fhir_ire.crd.rules import RuleIndex
from fhir_ire.data import load as load_data
from fhir_ire.limits import Limits
from fhir_ire.store import ResourceIndex

PRIMARY = {"order-sign", "order-dispatch", "appointment-book"}
log = logging.getLogger("fhir_ire.crd")


def load_services() -> dict:
    """The discovery document; the CRD extension (version, configuration options) is written once in the data file
    and carried on every service entry, where CRD clients look for it."""
    doc = copy.deepcopy(load_data("crd/services.json"))
    for service in doc["services"]:
        service["extension"] = {**doc.get("extension", {}), **service.get("extension", {})}
    return doc


class CrdEngine:
    """Built once at start-up: the rule index, the discovery document, the FHIR-server allow-list."""

    def __init__(self, index: ResourceIndex, config: dict):
        self.rules = RuleIndex(index)
        self.discovery = load_services()
        self.services = {s["id"]: s for s in self.discovery["services"]}
        self.allowed_servers = list(config.get("FHIR_SERVERS") or [])
        self.limits = Limits.from_config(config)


def _truthy(result) -> bool:
    return bool(result) and all(r is True for r in result)


def _applies(action, hook: str, env: dict, rule_id: str) -> bool:
    if action.hooks and hook not in action.hooks:
        return False
    try:
        return all(_truthy(cond({}, env)) for cond in action.conditions)
    except Exception as e:  # noqa: BLE001 - a rule that cannot be evaluated on this data does not apply
        log.warning("rule %s action %s could not be evaluated: %s", rule_id, action.raw.get("id"), type(e).__name__)
        return False


def _removals(action, env: dict, rule_id: str) -> list[dict]:
    try:
        return [r for f in action.removals for r in f({}, env) if isinstance(r, dict)]
    except Exception as e:  # noqa: BLE001 - no suggestion rather than a failed call
        log.warning("rule %s action %s removals could not be evaluated: %s", rule_id, action.raw.get("id"),
                    type(e).__name__)
        return []


def _coverage_ref(coverage: dict) -> str:
    return f"Coverage/{coverage['id']}" if coverage.get("id") else "Coverage"


def _config(request: dict) -> dict:
    return (request.get("extension") or {}).get("davinci-crd.configuration") or {}


def decide(engine: CrdEngine, service_id: str, request: dict, fhir_base: str) -> dict:
    hook = engine.services[service_id]["hook"]
    request = {**request, "hook": hook}
    old, config = is_v2_0(request), _config(request)
    fetcher = Fetcher(request, engine.allowed_servers, engine.limits)
    patient = quote(str((request.get("context") or {}).get("patientId") or ""), safe="")
    coverages = [c for c in prefetched(request, "coverage", f"Coverage?patient={patient}&status=active", "coverage",
                                       fetcher) if c.get("resourceType") == "Coverage"]
    coverage = coverages[0] if coverages else None
    conditions = [c for c in prefetched(request, "conditions", f"Condition?patient={patient}", "conditions", fetcher)
                  if c.get("resourceType") == "Condition"]
    payer, names = payer_names(coverage, request, fetcher)
    payer_id = engine.rules.match_payer(names)
    lobs = lines_of_business(coverage)
    all_orders = orders(request, fetcher)
    # the other orders a rule compares with: every draft order, also the ones not selected in order-select
    draft_all = draft_orders(request) if hook in ("order-sign", "order-select") else all_orders
    cards, actions = [], []
    assertion = new_assertion_id()
    for order in all_orders:
        budget.check("deciding coverage for each order")
        codings = order_codings(order)
        if not engine.rules.governs(codings):  # an order these documents say nothing about: still one answer per order (CRD hook-16)
            if coverage is not None and config.get("coverage-info") is not False:
                what = next((c.get("code") for c in codings if c.get("code")), None) or "this order"
                det = {"covered": "indeterminate", "reason": f"No coverage rules for {what} in this service"}
                ext = coverage_information(det, _coverage_ref(coverage), hook, request, assertion)
                actions.append({"type": "update", "description": f"Coverage information for {what}",
                                "resource": with_extension(order, ext)})
            continue
        others = [o for o in draft_all if o is not order]
        env = {"order": order, "orderCodes": codings, "reasonCodes": reason_codings(order),
               "coverage": [coverage] if coverage else [], "payer": [payer] if payer else [],
               "payerId": [payer_id] if payer_id else [], "linesOfBusiness": lobs, "conditions": conditions,
               "draftOrders": others, "draftCodes": [c for o in others for c in order_codings(o)], "hook": hook}
        determination, det_action, det_label = None, None, None
        # only the actions indexed under an ordered code, for this payer or cross-payer (payer rules first)
        for act in engine.rules.actions_for(codings, payer_id):
            budget.check("evaluating the coverage rules")
            rule_id, label = act.rule.plan.get("id"), act.rule.label
            if not _applies(act, hook, env, rule_id):
                continue
            if act.determination:
                if determination is None:
                    determination, det_action, det_label = act.determination, act.raw, label
                    cards.append(card_of.action_card(act.raw, label, old, order, fhir_base, []))
                continue
            topic = ((act.raw.get("code") or [{}])[0].get("coding") or [{}])[0].get("code")
            if config.get(topic) is False or (topic in ("claim", "appropriate-use") and config.get("guideline")
                                              is False):
                continue
            removals = _removals(act, env, rule_id)
            cards.append(card_of.action_card(act.raw, label, old, order, fhir_base, removals))
        code = next((c.get("code") for c in codings if (c.get("system"), c.get("code")) in engine.rules.by_code), "")
        if determination is None and coverage is not None:
            name = (payer or {}).get("name") or "the payer"
            if payer_id is None:
                determination = {"covered": "indeterminate", "reason": f"No coverage rules for this payer ({name})"}
            else:
                determination = {"covered": "indeterminate",
                                 "reason": f"{engine.rules.payers[payer_id]['name']} has no coverage policy for "
                                           f"{code} in the rules this service holds"}
            cards.append(card_of.card(f"Coverage for {code} could not be determined: {determination['reason']}",
                                      "", "info", name, "coverage-info", old, order))
        if coverage is None:
            cards.append(card_of.card(f"No active coverage found: coverage requirements for {code} cannot be "
                                      "determined", "", "warning", "fhir-ire", "insurance", old, order))
        elif config.get("coverage-info") is not False:
            ref = _coverage_ref(coverage)
            policy_url = next((lk["url"] for lk in card_of.policy_links(det_action or {}, fhir_base)), None)
            ext = coverage_information(determination, ref, hook, request, assertion, policy_url)
            actions.append({"type": "update", "description": f"Coverage information for {code}"
                            + (f" ({det_label})" if det_label else ""), "resource": with_extension(order, ext)})
        items = [cid for c in codings for cid in engine.rules.charge_items.get((c.get("system"), c.get("code")), [])]
        if items and config.get("cost") is not False:
            cards.append(card_of.payment_card(code, items, old, order))
    if fetcher.gaps:
        cards.append(card_of.card("Some patient data could not be checked for coverage rules",
                                  "\n".join(f"- {g}" for g in fetcher.gaps), "info", "fhir-ire", "coverage-info",
                                  old))
    limit = config.get("max-cards")
    if isinstance(limit, int) and limit >= 0:
        cards = cards[:limit]
    response = {"cards": cards}
    if hook in PRIMARY or actions:
        response["systemActions"] = actions
    return response
