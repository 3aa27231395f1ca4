"""CodeSystem fragments: CPT codes and modifiers, HCPCS Level II modifiers, and the NUCC codes our maps use."""

import re

from fhir_ire.build.context import BuildContext
from fhir_ire.facts import (CodeAttribute, CodeDescription, GovernedCode, ModifierRow, NotReportedWith, RelatedCodeRow,
                            TaxonomyRow)
from fhir_ire.sources.shapes import cpt_category, is_cpt
from fhir_ire.uris import CPT, CS_CPT_PROPERTY, HCPCS, NUCC

AMA_COPYRIGHT = ("CPT codes, descriptions and other data only are copyright American Medical Association. All Rights "
                 "Reserved. CPT is a registered trademark of the American Medical Association. This fragment lists only "
                 "the codes the source documents cite, with the documents' wording.")
ROLE_ORDER = {"formal": 0, "title": 1, "descriptor": 2, "summary": 3}
PROPERTIES = (
    ("category", "code", "CPT category: category-i, category-ii, category-iii, or modifier"),
    ("approach", "code", "Surgical approach named in the descriptor"),
    ("imaging-included", "boolean", "Imaging guidance is included in the code"),
    ("effective-date", "dateTime", "Date the code or its payment took effect, as the source states"),
    ("site-of-service", "string", "Typical site of service, as the source states"),
    ("service-type", "string", "Type of service, as the source states"),
)
PROPERTY_TYPES = {code: ptype for code, ptype, _ in PROPERTIES}


def _is_modifier(code: str) -> bool:
    return bool(re.fullmatch(r"\d{2}|[A-Z][A-Z0-9]", code))


def collect_codes(ctx: BuildContext) -> dict[str, dict]:
    """Every CPT or HCPCS code the documents cite: {code: {system, descriptions, properties, sources}}."""
    codes: dict[str, dict] = {}

    def entry(code, system=CPT):
        return codes.setdefault(code, {"system": system, "descriptions": [], "properties": {}, "sources": []})

    def describe(e, role, text, source):  # a code named without words gets no empty designation
        if text and text.strip():
            e["descriptions"].append((role, text, source))

    for _, f in ctx.facts(CodeDescription):
        e = entry(f.code)
        describe(e, f.role, f.text, f.source)
        e["sources"].append(f.source)
    for _, f in ctx.facts(GovernedCode):
        if f.system in (CPT, HCPCS):
            e = entry(f.code, f.system)
            describe(e, "formal", f.description, f.source)
            e["sources"].append(f.source)
    for _, f in ctx.facts(RelatedCodeRow):
        e = entry(f.code, CPT if is_cpt(f.code) else HCPCS)
        describe(e, "related", f.description, f.source)
        e["sources"].append(f.source)
    for _, f in ctx.facts(ModifierRow):
        e = entry(f.code, CPT if f.code.isdigit() else HCPCS)
        describe(e, "modifier", f.description, f.source)
        e["properties"].setdefault("category", "modifier")
        e["sources"].append(f.source)
    for _, f in ctx.facts(NotReportedWith):
        for code in (f.code, *f.others):
            entry(code, CPT if is_cpt(code) else HCPCS)["sources"].append(f.source)
    for _, f in ctx.facts(CodeAttribute):
        e = entry(f.code)
        e["properties"].setdefault(f.name, f.value)
        e["sources"].append(f.source)
    for code, e in codes.items():
        if e["system"] == CPT and not _is_modifier(code):
            e["properties"].setdefault("category", cpt_category(code))
    return codes


def display_of(e: dict) -> str | None:
    order = {**ROLE_ORDER, "related": 4, "modifier": 4}
    descs = sorted(e["descriptions"], key=lambda d: (order.get(d[0], 9), d[2].file, d[2].line))
    return descs[0][1] if descs else None


def _concept(code: str, e: dict, base: str) -> dict:
    concept = {"code": code}
    if display := display_of(e):
        concept["display"] = display
    others = []
    for role, text, _ in e["descriptions"]:
        if text != display and (role, text) not in others:
            others.append((role, text))
    if others:
        concept["designation"] = [{"use": {"system": base + "/CodeSystem/designation-use", "code": role},
                                   "value": text} for role, text in others]
    props = []
    for name, value in sorted(e["properties"].items()):
        ptype = PROPERTY_TYPES.get(name)
        if ptype == "boolean":
            props.append({"code": name, "valueBoolean": value == "true"})
        elif ptype == "code":
            props.append({"code": name, "valueCode": value})
        elif ptype == "dateTime":
            props.append({"code": name, "valueDateTime": value})
        elif ptype == "string":
            props.append({"code": name, "valueString": value})
    if props:
        concept["property"] = props
    return concept


def _fragment(ctx: BuildContext, rid: str, url: str, name: str, title: str, concepts: list[dict], **extra) -> dict:
    cs = {"resourceType": "CodeSystem", "id": rid, "url": url, "name": name, "title": title, "status": "active",
          "experimental": False, "publisher": "fhir-ire (extracted from source documents)", "caseSensitive": True,
          "content": "fragment", "count": len(concepts), **extra, "concept": concepts}
    return cs


def build_codesystems(ctx: BuildContext, codes: dict[str, dict], nucc_targets: dict[str, str]) -> list[dict]:
    """nucc_targets: {taxonomy code: display} that the CPT-to-NUCC map publishes."""
    out = []
    for system, rid, name, title in ((CPT, "cpt", "CPT", "CPT codes and modifiers cited by the source documents"),
                                     (HCPCS, "hcpcs", "HCPCSLevelII", "HCPCS Level II codes and modifiers cited by the "
                                                                       "source documents")):
        mine = {c: e for c, e in codes.items() if e["system"] == system}
        if not mine:
            continue
        concepts = [_concept(c, e, ctx.base) for c, e in sorted(mine.items())]
        props = [{"code": code, "uri": ctx.base + CS_CPT_PROPERTY + "#" + code, "description": desc, "type": ptype}
                 for code, ptype, desc in PROPERTIES]
        cs = _fragment(ctx, rid, system, name, title, concepts, copyright=AMA_COPYRIGHT if system == CPT else None,
                       property=props)
        if cs["copyright"] is None:
            del cs["copyright"]
        out.append(cs)
        ctx.cite(cs, *[s for e in mine.values() for s in e["sources"]])
    if nucc_targets:
        concepts = [{"code": c, "display": d} if d else {"code": c} for c, d in sorted(nucc_targets.items())]
        extra = {"version": ctx.nucc.version} if ctx.nucc else {}
        cs = _fragment(ctx, "nucc-provider-taxonomy", NUCC, "NUCCProviderTaxonomy",
                       "NUCC provider taxonomy codes used by the CPT-to-NUCC map", concepts,
                       copyright="The NUCC Health Care Provider Taxonomy code set is maintained by the National "
                                 "Uniform Claim Committee.", **extra)
        ctx.cite(cs, *[f.source for _, f in ctx.facts(TaxonomyRow)])
        out.append(cs)
    return out
