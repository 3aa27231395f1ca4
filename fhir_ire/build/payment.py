"""ChargeItemDefinitions: payment benchmarks per code and setting, with the year they are for."""

from fhir_ire.build.context import BuildContext, slug
from fhir_ire.facts import Payment
from fhir_ire.uris import CPT, USAGE_CONTEXT_TYPE

SETTINGS = {
    "physician-non-facility": "Physician fee schedule, non-facility",
    "physician-facility": "Physician fee schedule, facility",
    "hospital-outpatient": "Hospital outpatient (OPPS)",
    "asc": "Ambulatory surgical center (ASC)",
    "physician": "Physician fee schedule (facility or non-facility not stated)",
    "unspecified": "Setting not stated",
}


def _component_code(p: Payment) -> str:
    parts = []
    if p.apc:
        parts.append(f"APC {p.apc}")
    if p.indicator:
        parts.append(f"{'status' if p.setting == 'hospital-outpatient' else 'payment'} indicator {p.indicator}")
    if p.rvu is not None:
        parts.append(f"{p.rvu} RVUs")
    return ", ".join(parts) or p.note or SETTINGS[p.setting]


def build_charge_items(ctx: BuildContext) -> list[dict]:
    out, seen = [], set()
    for doc, p in ctx.facts(Payment):
        rid = f"payment-{slug(p.code)}-{p.setting}" + (f"-{p.year}" if p.year else "")
        if rid in seen:
            continue  # a second source for the same figure is a payment-conflict finding, not a second resource
        seen.add(rid)
        year = f"{p.year} " if p.year else ""
        component = {"type": "base", "code": {"text": _component_code(p)}}
        if p.amount is not None:
            component["amount"] = {"value": p.amount, "currency": "USD"}
        cid = {"resourceType": "ChargeItemDefinition", "id": rid, "url": ctx.url("ChargeItemDefinition", rid),
               "title": f"Medicare {year}national average payment: CPT {p.code}, {SETTINGS[p.setting]}",
               "status": "active", "publisher": doc.title,
               "description": (f"{SETTINGS[p.setting]}: " + (f"${p.amount:,.2f}" if p.amount is not None else p.note)
                               + f" ({_component_code(p)}), from {doc.title}."),
               "useContext": [{"code": {"system": USAGE_CONTEXT_TYPE, "code": "venue"},
                               "valueCodeableConcept": {"text": SETTINGS[p.setting]}}],
               "code": {"coding": [{"system": CPT, "code": p.code}]},
               "applicability": [{"description": f"Source: \"{p.source.quote}\" ({p.source.cite()})"}],
               "propertyGroup": [{"priceComponent": [component]}]}
        if p.year:
            cid["effectivePeriod"] = {"start": f"{p.year}-01-01", "end": f"{p.year}-12-31"}
        ctx.cite(cid, p.source)
        out.append(cid)
    return out
