"""Positions per procedure at build time: the codes each coverage position of a policy governs (those the policy
ties to it, else those the other documents establish for the procedure it names, published with a 'codes-inferred'
finding that quotes both sides), and the positions that bear on each code."""

import re
from collections import defaultdict
from dataclasses import dataclass

from fhir_ire.build.context import BuildContext
from fhir_ire.checks.findings import Finding
from fhir_ire.facts import (CodeDescription, CodeMention, CoverageStatement, Criterion, DocumentFacts, GovernedCode,
                            PriorAuthorization, Source)
from fhir_ire.sources.procedures import Procedure, describe
from fhir_ire.sources.shapes import cpt_category
from fhir_ire.uris import CPT, HCPCS


@dataclass(frozen=True)
class Signature:
    system: str
    code: str
    procedure: Procedure
    source: Source
    text: str


_EXCLUDED = re.compile(r"\b(?:other\s+than|except(?:\s+for)?|excluding|not\s+including)\b[^,.;)]*", re.I)


def code_signatures(ctx: BuildContext) -> dict[tuple[str, str], Signature]:
    """What the documents establish about each procedure code: the modalities, sites and approaches its descriptors
    name (all of them together; a site a descriptor excludes, 'other than the liver', is not the code's). Narrative
    sentences about a code are not descriptors: they name other organs freely."""
    if "code-signatures" in ctx.cache:
        return ctx.cache["code-signatures"]
    found: dict[tuple[str, str], list] = defaultdict(list)
    for doc in ctx.documents:
        for f in doc.facts:
            if isinstance(f, CodeDescription) and f.role in ("title", "formal"):  # descriptors, not narrative
                system, text = f.system, f.text
            elif isinstance(f, (GovernedCode, CodeMention)) and f.description:
                system, text = f.system, f.description
            else:
                continue
            if system in (CPT, HCPCS):
                found[(system, f.code)].append((describe(_EXCLUDED.sub(" ", text)), f.source, text))
    out = {}
    for (system, code), seen in found.items():
        procs = [p for p, _, _ in seen]
        union = Procedure(frozenset().union(*(p.modalities for p in procs)), frozenset().union(*(p.sites for p in procs)),
                          frozenset().union(*(p.approaches for p in procs)))
        _, source, text = next((x for x in seen if x[0].modalities), seen[0])
        out[(system, code)] = Signature(system, code, union, source, text)
    ctx.cache["code-signatures"] = out
    return out


def _matches(position: Procedure, scope: str, category: str, sig: Signature) -> bool:
    code = sig.procedure
    if position.classes:
        return "category-iii" in position.classes and sig.system == CPT and cpt_category(sig.code) == "category-iii"
    if not position.modalities or not (position.modalities & code.modalities):
        return False
    if position.sites and not (position.sites & code.sites):
        return False
    if not position.sites and category in ("not-covered", "investigational") and scope != "all":
        return False  # a denial for unnamed other indications is never spread over every code of the modality
    if len(position.approaches) == 1 and code.approaches and not (position.approaches & code.approaches):
        return False
    return True


def criteria_of(doc: DocumentFacts, statement: CoverageStatement) -> list[Criterion]:
    """The criteria listed after a statement, up to the next statement."""
    later = [s.source.line for s in doc.of(CoverageStatement) if s.source.line > statement.source.end_line]
    stop = min(later, default=10 ** 9)
    return [c for c in doc.of(Criterion) if statement.source.end_line < c.source.line < stop]


def position_codes(ctx: BuildContext, doc: DocumentFacts) -> list[tuple[CoverageStatement | PriorAuthorization,
                                                                        list[tuple[str, str]], bool]]:
    """(position, its (system, code) pairs, inferred) for the coverage statements and prior-authorization
    statements of a policy. A position with no codes of its own takes the codes of its procedure, when it names
    one; a 'codes-inferred' finding records each."""
    out = []
    signatures = code_signatures(ctx)
    governed = [(c.system, c.code) for c in doc.of(GovernedCode) if c.system in (CPT, HCPCS)]
    for f in doc.facts:
        if not isinstance(f, (CoverageStatement, PriorAuthorization)):
            continue
        codes = [tuple(c) for c in f.codes]
        if codes:
            out.append((f, codes, False))
            continue
        if isinstance(f, PriorAuthorization) and governed:
            out.append((f, governed, False))
            continue
        proc = describe(f.procedure) if f.procedure else Procedure()
        category = getattr(f, "category", "")
        if category.startswith("covered") and not proc.sites and not proc.classes:
            # covered for the indications it lists: the sites those criteria name, else nothing to infer from
            listed = describe(" ".join(c.text for c in criteria_of(doc, f))).sites
            if not listed:
                continue
            proc = proc.with_sites(listed)
        scope = getattr(f, "scope", "all")
        found = sorted(key for key, sig in signatures.items() if _matches(proc, scope, category, sig))
        if found:
            for key in found:
                sig = signatures[key]
                ctx.findings.append(Finding(
                    "information", "codes-inferred",
                    f"{key[1]} inferred for '{f.procedure}': the policy names the procedure but lists no code; "
                    f"{sig.source.cite()} says '{sig.text[:160]}'", f.source, key[0], key[1], f.text[:300],
                    f"{sig.text} ({sig.source.cite()})"))
            out.append((f, found, True))
    return out


def determinations_by_code(ctx: BuildContext, doc: DocumentFacts) -> dict[tuple[str, str], dict]:
    """Per code: the coverage statements and prior-authorization statements that bear on it."""
    by_code: dict[tuple[str, str], dict] = defaultdict(lambda: {"statements": [], "pa": [], "inferred": False})
    for fact, codes, inferred in position_codes(ctx, doc):
        for key in codes:
            entry = by_code[key]
            entry["pa" if isinstance(fact, PriorAuthorization) else "statements"].append(fact)
            entry["inferred"] = entry["inferred"] or inferred
    return by_code
