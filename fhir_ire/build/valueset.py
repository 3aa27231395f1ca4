"""ValueSets: procedures by ablation modality, each code's related diagnoses, device contraindication conditions."""

import re
from collections import defaultdict

from fhir_ire.build.context import BuildContext, slug
from fhir_ire.checks.findings import Finding
from fhir_ire.codesets import icd10cm
from fhir_ire.data import load as load_data
from fhir_ire.facts import CodeDescription, DeviceWarning
from fhir_ire.sources.procedures import describe
from fhir_ire.uris import CPT, ICD10CM


def _valueset(ctx, rid, name, title, description, include) -> dict:
    return {"resourceType": "ValueSet", "id": rid, "url": ctx.url("ValueSet", rid), "name": name, "title": title,
            "status": "active", "experimental": False, "publisher": "fhir-ire (extracted from source documents)",
            "description": description, "compose": {"include": include}}


def _name(text: str) -> str:
    return "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", text))


def modality_valuesets(ctx: BuildContext) -> list[dict]:
    """One ValueSet per modality of the procedure vocabulary (data/procedures.json): the codes whose descriptors
    name it."""
    by_modality = defaultdict(dict)
    for _, f in ctx.facts(CodeDescription):
        for modality in sorted(describe(f.text).modalities):
            by_modality[modality].setdefault(f.code, f.source)
    out = []
    for m in load_data("procedures.json")["modalities"]:
        codes = by_modality.get(m["id"])
        if not codes:
            continue
        vs = _valueset(ctx, f"procedures-{m['id']}", _name(m["title"]), m["title"],
                       f"{m['title']}: the procedure codes whose descriptors in the source documents name this modality.",
                       [{"system": CPT, "concept": [{"code": c} for c in sorted(codes)]}])
        ctx.cite(vs, *codes.values())
        out.append(vs)
    return out


def diagnosis_valuesets(ctx: BuildContext, icd_targets) -> list[dict]:
    by_proc = defaultdict(dict)
    for proc, t in icd_targets:
        by_proc[proc].setdefault(t["code"], t)
    out = []
    for proc in sorted(by_proc):
        concepts = [{"code": c, "display": t["display"]} for c, t in sorted(by_proc[proc].items())]
        vs = _valueset(ctx, f"{slug(proc)}-related-diagnoses", f"RelatedDiagnoses{proc}",
                       f"Diagnoses related to CPT {proc}",
                       f"ICD-10-CM diagnoses the source documents relate to CPT {proc} (official titles).",
                       [{"system": ICD10CM, "concept": concepts}])
        ctx.cite(vs, *[t["source"] for t in by_proc[proc].values() if "source" in t])
        out.append(vs)
    return out


def condition_families(text: str) -> list[dict]:
    """The condition terms (data/condition-terms.json) a contraindication names."""
    low = text.lower()
    return [t for t in load_data("condition-terms.json")["terms"] if any(p in low for p in t["patterns"])]


def contraindication_families(ctx: BuildContext) -> dict[str, list[tuple[dict, DeviceWarning]]]:
    """{device: [(condition term, warning fact)]} for contraindications that name a patient condition."""
    out = defaultdict(list)
    for _, f in ctx.facts(DeviceWarning):
        if f.type != "contraindication":
            continue
        for term in condition_families(f.text):
            bad = [c for c in term["codes"] if not icd10cm.is_code(c)]
            if bad:
                ctx.findings.append(Finding("error", "icd-unknown", f"condition-terms.json: {bad} not in ICD-10-CM",
                                            f.source, ICD10CM, bad[0]))
                continue
            if term["id"] not in {t["id"] for t, _ in out[f.device or "device"]}:
                out[f.device or "device"].append((term, f))
    return out


def contraindication_valuesets(ctx: BuildContext) -> list[dict]:
    out = []
    for device, pairs in sorted(contraindication_families(ctx).items()):
        include = [{"system": ICD10CM, "filter": [{"property": "concept", "op": "is-a", "value": c}]}
                   for term, _ in pairs for c in term["codes"]]
        names = ", ".join(t["display"] for t, _ in pairs)
        vs = _valueset(ctx, f"contraindications-{slug(device)}", f"Contraindications{_name(device)}",
                       f"Patient conditions that contraindicate the {device}",
                       f"ICD-10-CM families for the conditions the {device} labelling names as contraindications: "
                       f"{names}.", include)
        ctx.cite(vs, *[f.source for _, f in pairs])
        out.append(vs)
    return out
