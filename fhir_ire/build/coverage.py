"""Payer coverage rules: one PlanDefinition per payer policy, and one per government fee-for-service program whose
pricing and coverage the documents describe (contractor-priced codes with no national coverage determination)."""

from dataclasses import replace

from fhir_ire.build.context import BuildContext, slug
from fhir_ire.build.payers import lines_of_business, payer_id, program_line
from fhir_ire.build.positions import criteria_of, determinations_by_code
from fhir_ire.build.provenance import fhir_id
from fhir_ire.build.questionnaire import attach as attach_questionnaire
from fhir_ire.build.rules import LISTED, action, distinct_statements, has_code, one_of, plan_definition, starts_with
from fhir_ire.checks.findings import Finding
from fhir_ire.data import load as load_data
from fhir_ire.facts import (CodeDescription, CoverageStatement, Criterion, DocumentFacts, GovernedCode, PolicyField,
                            PriorAuthorization, Statement)
from fhir_ire.sources.shapes import cpt_category
from fhir_ire.uris import CPT, HCPCS, ICD10CM

PHRASES = {"not-covered": "not covered", "investigational": "not covered (experimental/investigational)",
           "covered-with-criteria": "covered when policy criteria are met", "covered": "covered"}


def _field(doc: DocumentFacts, name: str):
    return next((f for f in doc.of(PolicyField) if f.name == name), None)


def _order_codes(codes: list[tuple[str, str]]) -> str:
    return " or ".join(has_code("%orderCodes", s, [c for sys, c in codes if sys == s])
                       for s in (CPT, HCPCS) if any(sys == s for sys, _ in codes))


def _determination(category: str, pa: PriorAuthorization | None, reason: str) -> list[tuple[str, str]]:
    if category in ("not-covered", "investigational"):
        return [("covered", "not-covered"), ("reason", reason)]
    det = [("covered", "covered" if category == "covered" else "conditional")]
    if pa is not None and pa.required:
        det += [("pa-needed", "auth-needed"), ("doc-needed", "clinical"), ("doc-purpose", "withpa")]
        det += [("requirement", item) for item in pa.items]
    elif pa is not None:
        det += [("pa-needed", "no-auth")]
    else:
        det += [("pa-needed", "conditional")]
        reason += " The policy does not say whether prior authorization is required."
    if any(v == "conditional" for _, v in det):
        det.append(("info-needed", "OTH"))
    return det + [("reason", reason)]


def _detail(doc, main, others, number, criteria, pa) -> str:
    lines = [f"**{doc.title}**" + (f", policy {number}" if number else ""), ""]
    if main is not None:
        lines.append(f"> {main.text}")
    if criteria:
        lines += ["", "Criteria:"] + [f"- {c.text}" for c in criteria]
    for other in others:
        lines += ["", f"> {other.text}"]
    if pa is not None:
        lines += ["", f"> {pa.text}"] + [f"- {item}" for item in pa.items]
    return "\n".join(lines)


def _main_statement(statements: list[CoverageStatement]) -> tuple[CoverageStatement | None, list]:
    """The statement a code's answer follows and the others shown beside it. Where a policy covers a procedure for
    some indications and denies it for others, the answer is the conditional one (a wrong denial is worse than a
    missing one); a denial stands only when no statement on the code covers it."""
    order = ("covered-with-criteria", "covered", "investigational", "not-covered")
    ranked = sorted(statements, key=lambda s: (order.index(s.category), s.scope != "all", s.source.line))
    if not ranked:
        return None, []
    main = ranked[0]
    if main.category == "covered" and any(s.category != "covered" for s in ranked):
        main = replace(main, category="covered-with-criteria")  # covered for some indications only
    return main, [s for s in ranked[1:] if s.category != main.category or s.scope != main.scope]


def _pa_of(pas: list[PriorAuthorization]) -> PriorAuthorization | None:
    return next((p for p in pas if p.required), None) or next(iter(pas), None)


def policy_rule(ctx: BuildContext, doc: DocumentFacts, payers: dict, names: dict[str, list[str]]) -> dict | None:
    """The PlanDefinition of one payer policy (names: payers.names_index of payers)."""
    payer_field = _field(doc, "payer")
    if payer_field is None:
        where = next(iter(doc.of(CoverageStatement)), None)
        ctx.findings.append(Finding("warning", "payer-unknown", f"payer policy '{doc.title}' names no payer; no rule "
                                    "built (name the payer in the source manifest, sources.json)",
                                    where.source if where else None, value=doc.file))
        return None
    payer = payers[payer_id(names, payer_field.value)]
    by_code = determinations_by_code(ctx, doc)
    if not by_code:
        ctx.findings.append(Finding("warning", "policy-no-codes", "payer policy lists no procedure codes and names no "
                                    "procedure the other documents give codes for; no rule built", payer_field.source))
        return None
    number = getattr(_field(doc, "number"), "value", "")
    label = payer["aliases"][0] if payer["aliases"] else payer["name"]
    lob_fields = [f for f in doc.of(PolicyField) if f.name in ("line-of-business", "product")]
    lines = lines_of_business(*[f.value for f in lob_fields])
    base = [f"%payerId = '{payer['id']}'"]
    if lines:
        base.append(f"(%linesOfBusiness.empty() or {one_of('%linesOfBusiness', [l['code'] for l in lines])})")
    groups: dict[tuple, list[tuple[str, str]]] = {}
    for key, entry in sorted(by_code.items()):
        main, others = _main_statement(entry["statements"])
        pa = _pa_of(entry["pa"])
        if main is None and (pa is None or not pa.required):
            continue
        groups.setdefault((main, tuple(others), pa), []).append(key)
    dx = [c.code for c in doc.of(GovernedCode) if c.system == ICD10CM]
    actions, sources, used = [], [], set()
    for (main, others, pa), codes in groups.items():
        category = main.category if main else "covered-with-criteria"
        criteria = criteria_of(doc, main) if main and category == "covered-with-criteria" else []
        conditions = base + [_order_codes(codes)]
        text = main.text if main else pa.text
        reason = f"{payer['name']} policy {number or doc.title}: {text}"
        srcs = [s.source for s in ([main] if main else []) + list(others)] + ([pa.source] if pa else []) + \
            [c.source for c in criteria]
        other = next((s for s in others if s.scope == "other-indications" and not s.category.startswith("covered")),
                     None)
        if category == "covered-with-criteria" and dx and other:
            matched = starts_with("%reasonCodes", ICD10CM, dx)
            actions.append(action(ctx, _aid("other-indications", codes, used),
                                  f"{label}: {doc.title} {PHRASES[other.category]} for this diagnosis"
                                  + (f" (policy {number})" if number else ""), f"> {other.text}", "coverage-info",
                                  "warning", conditions + [f"%reasonCodes.where(system = '{ICD10CM}').exists() and "
                                                           f"{matched}.empty()"], [other.source],
                                  _determination(other.category, None, f"{payer['name']} policy {number}: "
                                                                       f"{other.text}")))
            conditions = conditions + [f"(%reasonCodes.where(system = '{ICD10CM}').empty() or {matched}.exists())"]
        phrase = PHRASES[category] + ("; prior authorization required" if pa and pa.required and
                                      category.startswith("covered") else "")
        title = f"{label}: {doc.title} {phrase}" + (f" (policy {number})" if number else "")
        indicator = "warning" if category in ("not-covered", "investigational") else "info"
        actions.append(action(ctx, _aid(slug(category), codes, used), title,
                              _detail(doc, main, others, number, criteria, pa), "coverage-info", indicator,
                              conditions, srcs, _determination(category, pa, reason)))
        attach_questionnaire(ctx, actions[-1],
                             f"{payer['name']}: {doc.title}" + (f" (policy {number})" if number else ""), payer["name"], [{"system": s, "code": c} for s, c in codes],
                             [(c.text, c.source) for c in criteria],
                             [(item, pa.source) for item in pa.items] if pa and pa.required else [])
        sources += srcs
    if not actions:
        return None
    focus = sorted({key for codes in groups.values() for key in codes})
    start = getattr(_field(doc, "effective-date"), "value", None)
    summary = next((m.text for m, _, _ in groups if m), None) or next(pa.text for _, _, pa in groups if pa)
    rid = fhir_id(f"coverage-{payer['id']}-{slug(number or doc.title)}")
    used_ids = ctx.cache.setdefault("policy-rule-ids", set())
    if rid in used_ids:  # the same policy twice (two versions, two renderings): both rules kept, told apart by file
        rid = fhir_id(f"{rid}-{slug(doc.file.rsplit('.', 1)[0])}")
    used_ids.add(rid)
    return plan_definition(ctx, rid,
                           f"{payer['name']} coverage policy: {doc.title}" + (f" ({number})" if number else ""),
                           f"{doc.title}: {summary}", payer["name"],
                           [{"system": s, "code": c} for s, c in focus], actions, payer=payer, lines=lines,
                           effective=start if start and start[:4].isdigit() else None, documents=[doc.file],
                           number=number)


def _aid(base: str, codes: list[tuple[str, str]], used: set) -> str:
    """An action id unique in its rule: the category, and the first code when the category repeats."""
    aid = base if base not in used else f"{base}-{slug(codes[0][1])}"
    used.add(aid)
    return aid


def program_line_condition(line: dict) -> str:
    """The coverage is the program's own line (e.g. fee-for-service), or unknown, or the broader line with none of
    its other specific lines (a plan under the program's name, e.g. an Advantage plan, is not the program)."""
    siblings = [x["code"] for x in load_data("lines-of-business.json")["lines"]
                if x["code"] != line["code"] and set(x["broader"]) & set(line["broader"])]
    broader = one_of("%linesOfBusiness", [line["code"]] + line["broader"])
    test = f"(%linesOfBusiness.empty() or ({broader}"
    if siblings:
        test += " and " + one_of("%linesOfBusiness", siblings).replace(".exists()", ".empty()")
    return test + "))"


def program_rules(ctx: BuildContext, payers: dict) -> list[dict]:
    """A fee-for-service program payer (e.g. the one named in code reports) for Category III codes its contractors
    price, where a document states there is no national/local coverage determination: coverage is decided by the
    contractor on the claim, no prior authorization, clinical documentation with the claim."""
    priced = [(d, s) for d, s in ctx.facts(Statement) if s.topic == "contractor-priced"]
    no_ncd = [(d, s) for d, s in ctx.facts(Statement) if s.topic == "no-ncd"]
    stated = [s for _, s in ctx.facts(Statement) if s.topic == "documentation"]
    documentation, more = distinct_statements(stated, LISTED)  # many documents repeat the same requests
    if not priced or not no_ncd:
        return []
    codes = {}
    for doc, _ in no_ncd:
        for c in doc.of(GovernedCode):
            if c.system == CPT and cpt_category(c.code) == "category-iii":
                codes.setdefault(c.code, c)
    priced_codes = {f.code for d, _ in priced for f in d.of(CodeDescription)}
    codes = {c: g for c, g in codes.items() if c in priced_codes}
    out = []
    for pid, p in sorted(payers.items()):
        line = program_line(p["name"])
        if not line or not codes:
            continue
        src = [priced[0][1].source, no_ncd[0][1].source] + [s.source for s in documentation]
        reason = (f"{p['name']}: contractor-priced Category III code with no national or local coverage determination; "
                  f"the contractor decides coverage on the claim and its documentation.")
        det = [("covered", "conditional"), ("pa-needed", "no-auth"), ("doc-needed", "clinical"),
               ("doc-purpose", "withclaim"), ("info-needed", "OTH"), ("reason", reason)]
        det += [("requirement", item) for item in dict.fromkeys(i for s in documentation for i in s.items)]
        detail = "\n".join([f"> {priced[0][1].text}", f"> {no_ncd[0][1].text}", "", "Documentation contractors request:"]
                           + [f"- {s.text}" for s in documentation]
                           + ([f"- (and {more} more statements in the cited documents)"] if more else []))
        act = action(ctx, "contractor-priced",
                     f"{p['name']}: covered if the contractor finds it reasonable and necessary; no prior auth, "
                     f"send clinical documentation with the claim", detail, "coverage-info", "info",
                     [f"%payerId = '{pid}'", has_code("%orderCodes", CPT, codes), program_line_condition(line)],
                     src, det)
        requests = {}  # each request once, with the first statement that makes it
        for s in documentation:
            for item in s.items:
                requests.setdefault(item, s.source)
        attach_questionnaire(ctx, act, f"{p['name']}: documentation for contractor-priced Category III codes",
                             p["name"],
                             [{"system": CPT, "code": c} for c in sorted(codes)], [], list(requests.items()),
                             required=False)
        out.append(pd := plan_definition(
            ctx, f"coverage-{pid}-contractor-priced", f"{p['name']} ({line['display']}): contractor-priced Category III "
            "codes", reason, p["name"], [{"system": CPT, "code": c} for c in sorted(codes)], [act], payer=p,
            lines=[{"code": line["code"], "display": line["display"]}],
            documents=sorted({s.file for s in src})))
        ctx.cite(pd, *[s.source for s in stated])
    return out
