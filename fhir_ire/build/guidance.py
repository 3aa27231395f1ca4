"""Cross-payer rules: Category III guidance, "do not report with" edits, device contraindications, and orders whose
diagnosis is not among the code's documented related diagnoses."""

from collections import defaultdict

from fhir_ire.build.context import BuildContext, slug
from fhir_ire.build.rules import LISTED, action, distinct_statements, has_code, plan_definition, starts_with
from fhir_ire.build.valueset import contraindication_families
from fhir_ire.facts import CodeDescription, NotReportedWith, Statement
from fhir_ire.sources.shapes import cpt_category, is_cpt
from fhir_ire.uris import CPT, HCPCS, ICD10CM

ACTIVE = ("%conditions.where(clinicalStatus.empty() or clinicalStatus.coding.where(code in ('active' | 'recurrence' | "
          "'relapse')).exists())")


def _system(code: str) -> str:
    return CPT if is_cpt(code) else HCPCS


def category_iii_rule(ctx: BuildContext) -> dict | None:
    """One action for every Category III code: the guidance is the same for each, so it is written once."""
    codes = sorted({f.code for _, f in ctx.facts(CodeDescription) if cpt_category(f.code) == "category-iii"})
    about_all = [s for _, s in ctx.facts(Statement) if s.topic == "category-iii" and "code" in s.text.lower()
                 and len(s.text) <= 220 and s.text[:1].isupper()]
    docs_all = [s for _, s in ctx.facts(Statement) if s.topic == "documentation"]
    if not codes or not (about_all or docs_all):
        return None
    about, _ = distinct_statements(about_all, 4)
    docs, more = distinct_statements(docs_all, LISTED)
    items = list(dict.fromkeys(item for s in docs for item in (s.items or (s.text,))))
    detail = "\n".join([f"> {s.text}" for s in about] + (["", "Documentation payers may request:"] if docs else [])
                       + [f"- {item}" for item in items]
                       + ([f"- (and {more} more statements in the cited documents)"] if more else []))
    act = action(ctx, "category-iii", "Category III CPT code: coverage varies by payer; keep documentation of medical "
                 "necessity and outcomes", detail, "guideline", "info", [has_code("%orderCodes", CPT, codes)],
                 [s.source for s in about + docs])
    files = sorted({s.source.file for s in about_all + docs_all})
    pd = plan_definition(ctx, "category-iii-guidance", "Category III codes: coverage and documentation guidance",
                         "Guidance for orders of Category III CPT codes, from the source documents.",
                         ctx.doc(files[0]).title, [{"system": CPT, "code": c} for c in codes], [act],
                         documents=files)
    ctx.cite(pd, *[s.source for s in about_all + docs_all])
    return pd


def not_reported_with_rule(ctx: BuildContext) -> dict | None:
    """One action per edit (a code and the codes it must not be reported with), however many documents state it."""
    edits = defaultdict(list)
    for doc, f in ctx.facts(NotReportedWith):
        edits[(f.code, tuple(f.others))].append((doc, f))
    if not edits:
        return None
    actions = []
    for n, ((code, others), stated) in enumerate(edits.items(), start=1):
        doc, f = stated[0]
        draft_has = " or ".join(has_code("code.coding", s, [o for o in others if _system(o) == s])
                                for s in (CPT, HCPCS) if any(_system(o) == s for o in others))
        actions.append(action(
            ctx, f"not-reported-with-{slug(code)}-{n}",
            f"Do not report {code} with {', '.join(others)}: remove the conflicting order",
            f"> {f.source.quote}\n\nSource: {doc.title} ({f.source.cite()})"
            + (f" and {len(stated) - 1} more documents." if len(stated) > 1 else "."), "claim", "warning",
            [has_code("%orderCodes", _system(code), [code]),
             " or ".join(has_code("%draftCodes", s, [o for o in others if _system(o) == s])
                         for s in (CPT, HCPCS) if any(_system(o) == s for o in others))],
            [g.source for _, g in stated], remove=f"%draftOrders.where({draft_has})"))
    codes = sorted({code for code, _ in edits})
    files = sorted({d.file for stated in edits.values() for d, _ in stated})
    return plan_definition(ctx, "not-reported-with", "Codes that must not be reported together",
                           "Bundling edits: codes the source documents say must not be reported with these codes.",
                           ctx.doc(files[0]).title, [{"system": _system(c), "code": c} for c in codes], actions,
                           documents=files)


def contraindication_rules(ctx: BuildContext) -> list[dict]:
    out = []
    for device, pairs in sorted(contraindication_families(ctx).items()):
        file = pairs[0][1].source.file
        codes = sorted({f.code for f in ctx.doc(file).of(CodeDescription)})
        if not codes:
            continue
        prefixes = [c for term, _ in pairs for c in term["codes"]]
        listed = "\n".join(f"- {f.text} ({term['display']})" for term, f in pairs)
        act = action(ctx, f"contraindications-{slug(device)}",
                     f"{device}: the patient has a condition listed as a contraindication; review before ordering",
                     f"The {device} labelling lists these contraindications:\n{listed}", "contraindication",
                     "warning", [has_code("%orderCodes", CPT, codes),
                                 starts_with(ACTIVE + ".code.coding", ICD10CM, prefixes) + ".exists()"],
                     [f.source for _, f in pairs])
        vs = ctx.url("ValueSet", f"contraindications-{slug(device)}")
        act["input"] = [{"type": "Condition", "codeFilter": [{"path": "code", "valueSet": vs}]}]
        out.append(plan_definition(ctx, f"contraindications-{slug(device)}", f"{device} contraindications",
                                   f"Warn when the patient has a condition the {device} labelling contraindicates.",
                                   ctx.doc(file).title, [{"system": CPT, "code": c} for c in codes], [act],
                                   documents=[file]))
    return out


def diagnosis_rule(ctx: BuildContext, icd_targets) -> dict | None:
    by_proc = defaultdict(dict)
    for proc, t in icd_targets:
        by_proc[proc].setdefault(t["code"], t)
    if not by_proc:
        return None
    actions = []
    for proc in sorted(by_proc):
        listed = "\n".join(f"- {c} {t['display']}" for c, t in sorted(by_proc[proc].items()))
        actions.append(action(
            ctx, f"diagnosis-{slug(proc)}",
            f"The order's diagnosis is not among the documented related diagnoses for CPT {proc}",
            f"Related diagnoses for {proc} in the source documents:\n{listed}", "guideline", "info",
            [has_code("%orderCodes", CPT, [proc]), f"%reasonCodes.where(system = '{ICD10CM}').exists()",
             starts_with("%reasonCodes", ICD10CM, list(by_proc[proc])) + ".empty()"],
            [t["source"] for t in by_proc[proc].values()]))
        actions[-1]["input"] = [{"type": "Condition", "codeFilter": [
            {"path": "code", "valueSet": ctx.url("ValueSet", f"{slug(proc)}-related-diagnoses")}]}]
    files = sorted({t["source"].file for targets in by_proc.values() for t in targets.values()})
    return plan_definition(ctx, "related-diagnoses-check", "Order diagnoses outside the documented related diagnoses",
                           "Informs when an order's ICD-10-CM diagnosis is not among those the documents relate to "
                           "the procedure.", ctx.doc(files[0]).title,
                           [{"system": CPT, "code": p} for p in sorted(by_proc)], actions, documents=files)
