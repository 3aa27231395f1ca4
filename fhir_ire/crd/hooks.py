"""decide(): a CDS Hooks request in, cards and coverage-information system actions out. Generic: every payer,
code and amount comes from the PlanDefinitions, Organizations and ChargeItemDefinitions in the bundles."""

import logging
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from fhir_ire import budget
from fhir_ire.crd import cards as card_of
from fhir_ire.crd.context import (Fetcher, draft_orders, lines_of_business, order_codings, orders, prefetched,
                                  reason_codings, relative, resources_of)
from fhir_ire.crd.coverage_info import (check_version, coverage_information, is_unchanged, is_v2_0,
                                        new_assertion_id, shaped_for, shaped_once, with_extensions)
from fhir_ire.crd.discovery import VERSIONS, card_topics, configuration, load_services
from fhir_ire.crd.payers import PayerIndex, Resolution, resolve_coverage
from fhir_ire.crd.rules import RuleIndex
from fhir_ire.fhirpath import TRUE
from fhir_ire.limits import Limits
from fhir_ire.store import ResourceIndex

PRIMARY = {"order-sign", "order-dispatch", "appointment-book"}
DATA_VARIABLES = {"conditions": "%conditions"}  # fetched data -> the rule variable it feeds
SUMMARY = ("covered", "pa-needed", "doc-needed", "reason-code")  # what the audit record keeps of a determination
PHRASES = {"covered": "covered", "not-covered": "not covered", "conditional": "covered if conditions are met",
           "indeterminate": "cannot be determined"}
log = logging.getLogger("fhir_ire.crd")


class CrdEngine:
    """Built once at start-up: the rule and payer indexes, the discovery document, the FHIR-server allow-list."""

    def __init__(self, index: ResourceIndex, config: dict):
        self.rules = RuleIndex(index)
        self.payers = PayerIndex(index)
        self.topics = card_topics(self.rules, bool(self.rules.charge_items))
        self.discovery = load_services(self.topics)
        self.services = {s["id"]: s for s in self.discovery["services"]}
        self.allowed_servers = list(config.get("FHIR_SERVERS") or [])
        self.limits = Limits.from_config(config)


@dataclass
class Outcome:
    """The response, and what the audit log keeps of it: the payer and each order's determination."""

    response: dict
    payer_id: str | None = None
    orders: list[dict] = field(default_factory=list)


def _truthy(result) -> bool:
    if len(result) == 1:  # the usual answer of a condition, checked without a generator
        return result[0] is True
    return bool(result) and all(r is True for r in result)


def _applies(action, hook: str, env: dict) -> bool:
    """Every condition true (the first that is not ends the test)."""
    if action.hooks and hook not in action.hooks:
        return False
    try:
        for fn, focus in action.tests:
            result = fn(focus, env)
            if result is not TRUE and not _truthy(result):  # TRUE: the closures' usual answer, shared
                return False
        return True
    except Exception as e:  # noqa: BLE001 - a rule that cannot be evaluated on this data does not apply
        log.warning("rule %s action %s could not be evaluated: %s", action.rule.plan.get("id"), action.raw.get("id"),
                    type(e).__name__)
        return False


def _removals(action, env: dict) -> list[dict]:
    if not action.removals:
        return []
    try:
        return [r for f in action.removals for r in f({}, env) if isinstance(r, dict)]
    except Exception as e:  # noqa: BLE001 - no suggestion rather than a failed call
        log.warning("rule %s action %s removals could not be evaluated: %s", action.rule.plan.get("id"),
                    action.raw.get("id"), type(e).__name__)
        return []


def _reads(action, variable: str) -> bool:
    return any(variable in ((c.get("expression") or {}).get("expression") or "") for c in action.raw.get("condition")
               or [])


def _coverage_refs(resolution: Resolution, order: dict) -> list[dict]:
    """The Coverage each assertion is about; when the Coverage could not be read (resp-43), the order's own
    insurance reference, else a reference that names what it stands for."""
    refs = [{"reference": f"Coverage/{c['id']}"} if c.get("id") else {"display": "Coverage"}
            for c in resolution.coverages]
    if refs:
        return refs
    return [i for i in order.get("insurance") or [] if isinstance(i, dict) and i.get("reference")][:1] or \
        [{"type": "Coverage", "display": "The patient's coverage (not readable from the EHR's FHIR server)"}]


def _expiry(coverage: dict | None, plan: dict | None) -> str | None:
    """The assertion holds while the coverage and the policy are in force: the earlier end date, when known."""
    ends = [str(p.get("end"))[:10] for p in ((coverage or {}).get("period"), (plan or {}).get("effectivePeriod"))
            if isinstance(p, dict) and p.get("end")]
    return min(ends) if ends else None


def _technical(order: dict, candidates, fetcher: Fetcher) -> str | None:
    """Why this order's determination could not be made (resp-43): data its rules read that the FHIR server failed
    to give, or the order behind an appointment that could not be read."""
    for ref in [b.get("reference") for b in order.get("basedOn") or []] if order.get("resourceType") == "Appointment" \
            else []:
        if f"order {ref}" in fetcher.failures:
            return f"The order {ref} could not be read from the EHR's FHIR server ({fetcher.failures[f'order {ref}']})"
    for what, variable in DATA_VARIABLES.items():
        if what in fetcher.failures and any(_reads(a, variable) for a in candidates if a.determination):
            return f"The patient's {what} could not be read from the EHR's FHIR server ({fetcher.failures[what]})"
    return None


def _appointments_by_order(request: dict) -> dict[str, dict]:
    """CRD 2.0.1 puts coverage-information on the booked Appointment; 2.2 on the ServiceRequest it is based on."""
    appointments = resources_of((request.get("context") or {}).get("appointments"))
    return {relative(b.get("reference")): appt for appt in appointments for b in appt.get("basedOn") or []
            if isinstance(b, dict)}


def evaluate(engine: CrdEngine, service_id: str, request: dict, fhir_base: str, today: date | None = None) -> Outcome:
    service = engine.services[service_id]
    hook = service["hook"]
    request = {**request, "hook": hook}
    check_version(request, VERSIONS)
    today = today or date.today()
    old = is_v2_0(request)
    config = configuration(request, service["extension"]["davinci-crd.configuration-options"])
    fetcher = Fetcher(request, engine.allowed_servers, engine.limits)
    patient = quote(str((request.get("context") or {}).get("patientId") or ""), safe="")
    coverages = [c for c in prefetched(request, "coverage", f"Coverage?patient={patient}&status=active", "coverage",
                                       fetcher) if c.get("resourceType") == "Coverage"]
    resolution = resolve_coverage(engine.payers, coverages, request, fetcher, today)
    payer_id = resolution.payer_id
    label = engine.payers.label(payer_id) if payer_id else next(
        (p.get("display") for c in coverages for p in c.get("payor") or [] if p.get("display")), "Payer")
    conditions = [c for c in prefetched(request, "conditions", f"Condition?patient={patient}", "conditions", fetcher)
                  if c.get("resourceType") == "Condition"]
    coverage = resolution.coverages[0] if resolution.kind == "ok" else None
    all_orders = orders(request, fetcher)
    # the other orders a rule compares with: every draft order, also the ones not selected in order-select
    draft_all = draft_orders(request) if hook in ("order-sign", "order-select") else all_orders
    cards, actions, summary, updated = [], [], [], set()
    booked = _appointments_by_order(request) if hook == "appointment-book" else {}
    codes = {}  # each order's codes once (read only); an order-sign's orders are also its draft orders
    for o in [*all_orders, *draft_all]:
        if id(o) not in codes:
            codes[id(o)] = order_codings(o)
    # the rule variables that are the same for every order of the call
    shared = {"coverage": [coverage] if coverage else [], "payer": [engine.payers.orgs[payer_id]] if payer_id else [],
              "payerId": [payer_id] if payer_id else [], "linesOfBusiness": lines_of_business(coverage),
              "conditions": conditions, "hook": hook}
    rules, show_info, show_cost = engine.rules, config.get("coverage-info", True) is not False, \
        config.get("cost", True) is not False
    refs = _coverage_refs(resolution, None) if resolution.coverages else None
    for order in all_orders:
        budget.check("deciding coverage for each order")
        codings = codes[id(order)]
        # only the actions indexed under an ordered code, for this payer or cross-payer (payer rules first)
        candidates = rules.actions_for(codings, payer_id)
        others = [o for o in draft_all if o is not order]
        env = {**shared, "order": order, "orderCodes": codings, "reasonCodes": reason_codings(order),
               "draftOrders": others, "draftCodes": [c for o in others for c in codes[id(o)]]}
        found = None  # the action that makes the determination
        for act in candidates:
            budget.check("evaluating the coverage rules")
            if not _applies(act, hook, env):
                continue
            if act.determination:  # coverage information goes out as a system action only (resp-12, resp-25)
                found = found or act
                continue
            if config.get(act.card_text[0], True) is False:
                continue  # dev-5, dev-14: the client turned this card type off
            cards.append(card_of.action_card(act, label, old, order, fhir_base, _removals(act, env)))
        code = rules.order_code(codings)
        det, extras = _determination(engine, resolution, order, codings, candidates, found, fetcher, code, fhir_base,
                                     hook, old)
        if "shaped" not in extras:
            extras["shaped"] = shaped_once(det, hook, old)
        exts = [coverage_information(det, ref, hook, request, new_assertion_id(), today=today, old=old, **extras)
                for ref in refs or _coverage_refs(resolution, order)]
        reference = f"{order.get('resourceType')}/{order.get('id')}"
        entry = {"order": reference, "codes": [c.get("code") for c in codings if c.get("code")]}
        for k in SUMMARY:
            if det.get(k):
                entry[k] = det[k]
        summary.append(entry)
        target = booked.get(reference, order) if old else order
        if show_info and id(target) not in updated and not is_unchanged(target, exts):  # dev-14, resp-35
            updated.add(id(target))
            actions.append({"type": "update", "description": f"Coverage information for {code} ({label}): "
                            + PHRASES.get(det["covered"], det["covered"])
                            + ("; prior authorization needed" if det.get("pa-needed") == "auth-needed" else ""),
                            "resource": with_extensions(target, exts)})
        if show_cost and rules.charge_items:
            items = [cid for c in codings for cid in rules.charge_items.get((c.get("system"), c.get("code")), ())]
            if items:
                cards.append(card_of.payment_card(code, items, label, old, order))
    gaps = [g for g in fetcher.gaps if not g.startswith("coverage:")]
    if gaps and config.get("guideline", True) is not False:
        cards.append(card_of.card("Some patient data could not be checked for coverage rules",
                                  "\n".join(f"- {g}" for g in gaps), "info", label, "guideline", old))
    if "max-cards" in config:
        cards = cards[:config["max-cards"]]
    response = {"cards": cards}
    if hook in PRIMARY or actions:
        response["systemActions"] = actions
    return Outcome(response, payer_id, summary)


def _determination(engine, resolution, order, codings, candidates, found, fetcher, code, fhir_base, hook,
                   old) -> tuple[dict, dict]:
    """The determination for one order, and the coverage-information elements that go with it."""
    if resolution.kind == "technical":
        return {"covered": "indeterminate", "reason-code": "technical", "reason": resolution.reason}, {}
    if resolution.kind in ("inactive", "ambiguous"):  # resp-45
        why = "no-active-coverage" if resolution.kind == "inactive" else "coverage-not-found"
        return {"covered": "not-covered", "reason-code": why, "reason": resolution.reason}, {}
    if why := _technical(order, candidates, fetcher):
        return {"covered": "indeterminate", "reason-code": "technical", "reason": why}, {}
    if found is None:
        name = engine.payers.label(resolution.payer_id)
        reason = f"{name} has no coverage policy for {code} in the rules this service holds" \
            if engine.rules.governs(codings) else \
            f"No coverage rules for {code} in this service"
        return {"covered": "indeterminate", "reason": reason}, {}
    act = found
    rule = act.rule
    billing = list({(c["system"], c["code"]): {"system": c["system"], "code": c["code"]}
                    for c in codings if (c.get("system"), c.get("code")) in rule.codes}.values())
    links = card_of.cached_links(act, fhir_base)
    return act.determination, {"policy_url": links[0]["url"] if links else None, "billing": billing,
                               "questionnaires": act.questionnaires,
                               "expiry": _expiry(resolution.coverages[0], rule.plan),
                               "shaped": shaped_for(act.shaped, act.determination, hook, old)}


def decide(engine: CrdEngine, service_id: str, request: dict, fhir_base: str) -> dict:
    return evaluate(engine, service_id, request, fhir_base).response

