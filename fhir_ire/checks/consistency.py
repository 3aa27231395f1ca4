"""Checks across sources: conflicting descriptors and payments, stale payment figures, damaged tables, gaps."""

import re
from functools import lru_cache
from collections import defaultdict
from datetime import date

from fhir_ire.checks.findings import Finding
from fhir_ire.facts import CodeDescription, DocumentFacts, GovernedCode, MissingData, Payment, TableCutOff
from fhir_ire.sources.procedures import describe
from fhir_ire.uris import CPT

def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_EXCLUSION = re.compile(r"\b(?:other\s+than|except(?:\s+for)?|excluding|not\s+including)\s+(?:the\s+)?([^,.;()]+)",
                        re.I)


@lru_cache(maxsize=4096)
def _traits(text: str) -> tuple[frozenset, frozenset]:
    approaches = describe(text).approaches
    exclusions = frozenset(_normal(m.group(1)) for m in _EXCLUSION.finditer(text))
    return approaches, exclusions


def _descriptions(documents) -> dict[str, dict[tuple[bool, str], list[CodeDescription]]]:
    """{code: {(formal, normalised text): the descriptions saying it, in file order}}: each distinct wording once,
    so a corpus that repeats a descriptor in many documents compares it once (the check stays linear)."""
    by_code = defaultdict(lambda: defaultdict(list))
    for doc in documents:
        for f in doc.facts:
            if isinstance(f, CodeDescription) and f.role in ("formal", "descriptor", "summary"):
                by_code[f.code][(f.role == "formal", _normal(f.text))].append(f)
            elif isinstance(f, GovernedCode) and f.system == CPT and f.description:
                d = CodeDescription(source=f.source, system=CPT, code=f.code, role="formal", text=f.description)
                by_code[f.code][(True, _normal(f.description))].append(d)
    return by_code


def _cited(sayers: list[CodeDescription]) -> str:
    more = len({d.source.file for d in sayers}) - 1
    return sayers[0].source.cite() + (f" and {more} more document(s)" if more > 0 else "")


def check_descriptors(documents: list[DocumentFacts]) -> list[Finding]:
    """Two sources describing one code differently: different formal descriptors, or a scope restriction
    ('other than ...') or approach in one that the other does not have. One finding per pair of wordings."""
    findings = []
    for code, wordings in sorted(_descriptions(documents).items()):
        formal = [(key, sayers) for key, sayers in wordings.items() if key[0]]
        reported = set()
        for dkey, dsayers in wordings.items():
            for fkey, fsayers in formal:
                d = dsayers[0]
                if dkey == fkey or (fkey, dkey) in reported or (d.source.file, fkey) in reported:
                    continue
                f = next((x for x in fsayers if x.source.file != d.source.file), None)
                if f is None:
                    continue
                (a1, x1), (a2, x2) = _traits(d.text), _traits(f.text)
                differs = (d.role == "formal" and dkey[1] != fkey[1]) or (a1 and a2 and not a1 & a2) or x1 != x2
                if differs:
                    reported |= {(dkey, fkey), (fkey, dkey), (d.source.file, fkey)}
                    findings.append(Finding(
                        "warning", "descriptor-conflict",
                        f"{code}: {_cited(dsayers)} says '{d.text}' but {_cited(fsayers)} says '{f.text}'",
                        d.source, CPT, code, d.text, f"{f.text} ({f.source.cite()})"))
    return findings


def check_payments(documents: list[DocumentFacts], as_of: date, stale_years: int) -> list[Finding]:
    findings, seen = [], defaultdict(list)
    for doc in documents:
        for p in doc.of(Payment):
            seen[(p.code, p.setting, p.year)].append(p)
    for (code, setting, year), pays in sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)):
        amounts = {p.amount for p in pays}
        if len(amounts) > 1:
            findings.append(Finding("warning", "payment-conflict",
                                    f"{code} {setting} {year}: sources give different amounts {sorted(map(str, amounts))}",
                                    pays[0].source, CPT, code))
    stale = defaultdict(list)
    for pays in seen.values():
        for p in pays:
            if p.year is not None and as_of.year - p.year > stale_years:
                stale[(p.code, p.year, p.source.file)].append(p)
    for (code, year, _), pays in sorted(stale.items()):
        findings.append(Finding("warning", "payment-stale",
                                f"{code}: payment figures are for {year}, more than {stale_years} years before the "
                                f"build year; check current rates", pays[0].source, CPT, code, f"{year} figures"))
    return findings


def check_gaps(documents: list[DocumentFacts]) -> list[Finding]:
    findings = []
    for doc in documents:
        for f in (t for t in doc.of(TableCutOff) if t.rows >= 0):  # short rows: checks/reading.py
            findings.append(Finding("warning", "table-cut-off",
                                    f"{f.table} table ends the document after {f.rows} row(s); rows may be missing",
                                    f.source))
        for f in doc.of(MissingData):
            findings.append(Finding("information", "data-not-available",
                                    f"source marks data as not available (section '{f.section}')", f.source))
    return findings
