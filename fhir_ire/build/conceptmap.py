"""ConceptMaps from CPT codes: to ICD-10-CM indications, NUCC taxonomy, modifiers, related codes, and the codes that
must not be reported with them. The mapping policy decides how codes that contradict a code set are published."""

from collections import defaultdict

from fhir_ire.build.context import MAPPING_POLICIES, BuildContext
from fhir_ire.checks.codes import find_taxonomy, specialty_matches
from fhir_ire.codesets import icd10cm
from fhir_ire.facts import DiagnosisRow, GovernedCode, ModifierRow, NotReportedWith, RelatedCodeRow, TaxonomyRow
from fhir_ire.sources.shapes import is_cpt
from fhir_ire.uris import CPT, HCPCS, ICD10CM, NUCC

MAPS = (
    ("cpt-to-icd10cm", "CPTToICD10CM", "CPT procedures to related ICD-10-CM diagnoses"),
    ("cpt-to-nucc", "CPTToNUCC", "CPT procedures to NUCC provider taxonomy of those who perform them"),
    ("cpt-to-modifiers", "CPTToModifiers", "CPT procedures to the modifiers that may be appended"),
    ("cpt-to-related-cpt", "CPTToRelatedCPT", "CPT procedures to related CPT codes"),
    ("cpt-not-reported-with", "CPTNotReportedWith", "CPT procedures to codes that must not be reported with them"),
)


def _target(system, code, display, comment, source) -> dict:
    t = {"system": system, "code": code, "equivalence": "relatedto", "source": source}
    if display:
        t["display"] = display
    if comment:
        t["comment"] = comment
    return t


def icd_targets(ctx: BuildContext) -> list[tuple[str, dict]]:
    """(procedure, target) for every ICD-10-CM code cited for a procedure, after the mapping policy."""
    rows = [(f.procedure, f.code, f.description, f.relevance, f.source) for _, f in ctx.facts(DiagnosisRow)]
    for doc, f in ctx.facts(GovernedCode):
        if f.system == ICD10CM:
            governed = [g.code for g in doc.of(GovernedCode) if g.system == CPT]
            rows += [(p, f.code, f.description, "Listed in the coding table of a payer policy for this code", f.source)
                     for p in governed]
    out = []
    for proc, code, desc, note, src in rows:
        if not icd10cm.is_code(code):
            continue  # unknown codes are published nowhere; the QA outcome lists them
        official = icd10cm.display(code)
        notes = [note] if note else []
        if desc and ctx.findings_for("icd-display-mismatch", code):
            notes.append(f"Source described {code} as '{desc}'; the ICD-10-CM title is used.")
        if not icd10cm.is_billable(code):
            if ctx.mapping_policy == "omit":
                continue
            notes.append(f"{code} is a category (not billable); report a child code: "
                         f"{', '.join(icd10cm.children(code))}.")
        out.append((proc, _target(ICD10CM, code, official, " ".join(notes), src)))
    return out


def nucc_targets(ctx: BuildContext) -> list[tuple[str, dict]]:
    out = []
    for _, f in ctx.facts(TaxonomyRow):
        code, display, notes = f.code, None, [f.notes] if f.notes else []
        tax = ctx.nucc.get(code) if ctx.nucc else None
        if ctx.nucc is not None and (tax is None or not specialty_matches(f.specialty, tax)):
            said = f"Source listed {f.code} for '{f.specialty}'" + (f"; NUCC {f.code} is '{tax.display}'" if tax else
                                                                   f"; NUCC has no code {f.code}")
            fix = find_taxonomy(f.specialty, ctx.nucc)
            if ctx.mapping_policy == "omit" or (tax is None and not fix):
                continue
            if ctx.mapping_policy == "correct" and fix:
                code, tax = fix.code, fix
                notes.append(said + f"; corrected by specialty name to {fix.code}.")
            else:
                notes.append(said + ". Kept as written (mapping policy 'annotate'); do not rely on it.")
        display = tax.display if tax else None
        out.append((f.procedure, _target(NUCC, code, display, " ".join(notes), f.source)))
    return out


def modifier_targets(ctx):
    return [(f.procedure, _target(CPT if f.code.isdigit() else HCPCS, f.code, f.description, f.when_to_use, f.source))
            for _, f in ctx.facts(ModifierRow)]


def related_targets(ctx):
    return [(f.procedure, _target(CPT if is_cpt(f.code) else HCPCS, f.code, f.description, f.relationship, f.source))
            for _, f in ctx.facts(RelatedCodeRow)]


def not_reported_targets(ctx):
    return [(f.code, _target(CPT if is_cpt(o) else HCPCS, o, None, f"Do not report together. Source: \"{f.source.quote}\"",
                             f.source)) for _, f in ctx.facts(NotReportedWith) for o in f.others]


def _conceptmap(ctx: BuildContext, rid, name, title, targets, displays) -> dict:
    groups = defaultdict(lambda: defaultdict(dict))
    sources = []
    for proc, t in targets:
        sources.append(t["source"])
        element = groups[t["system"]][proc]
        if t["code"] not in element:  # first source (file order) wins; later ones are in Provenance
            element[t["code"]] = {k: v for k, v in t.items() if k not in ("system", "source")}
    cm = {"resourceType": "ConceptMap", "id": rid, "url": ctx.url("ConceptMap", rid), "name": name, "title": title,
          "status": "active", "experimental": False, "publisher": "fhir-ire (extracted from source documents)",
          "description": f"{title}. Mapping policy '{ctx.mapping_policy}': {MAPPING_POLICIES[ctx.mapping_policy]}.",
          "sourceUri": CPT, "group": []}
    for system in sorted(groups):
        elements = []
        for proc in sorted(groups[system]):
            el = {"code": proc}
            if displays.get(proc):
                el["display"] = displays[proc]
            el["target"] = [groups[system][proc][c] for c in sorted(groups[system][proc])]
            elements.append(el)
        cm["group"].append({"source": CPT, "target": system, "element": elements})
    if len(groups) == 1:
        cm["targetUri"] = next(iter(groups))
    ctx.cite(cm, *sources)
    return cm


def build_conceptmaps(ctx: BuildContext, displays: dict[str, str], icd: list) -> list[dict]:
    """icd: the ICD-10-CM targets (icd_targets), computed once by the caller, which the value sets use too."""
    makers = (lambda _: icd, nucc_targets, modifier_targets, related_targets, not_reported_targets)
    out = []
    for (rid, name, title), make in zip(MAPS, makers):
        targets = make(ctx)
        if targets:
            out.append(_conceptmap(ctx, rid, name, title, targets, displays))
    return out
