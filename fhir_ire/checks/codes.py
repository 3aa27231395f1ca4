"""Check ICD-10-CM and NUCC codes the documents cite against the official code sets."""

from fhir_ire.checks.findings import Finding
from fhir_ire.checks.words import content_words, says_more_than
from fhir_ire.codesets import icd10cm
from fhir_ire.codesets.nucc import NuccTable, Taxonomy
from fhir_ire.facts import DiagnosisRow, DocumentFacts, GovernedCode, TaxonomyRow
from fhir_ire.uris import ICD10CM, NUCC


def check_icd(code: str, description: str, source) -> list[Finding]:
    if not icd10cm.is_code(code):
        return [Finding("error", "icd-unknown", f"ICD-10-CM has no code {code}", source, ICD10CM, code,
                        description, "(no such code)")]
    official = icd10cm.display(code)
    findings = []
    if not icd10cm.is_billable(code):
        kids = icd10cm.children(code)
        findings.append(Finding("warning", "icd-not-billable",
                                f"{code} is a category, not billable; report one of {', '.join(kids[:6])}",
                                source, ICD10CM, code, description, f"{official} (header; children: {', '.join(kids)})"))
    extra = says_more_than(description, official, *icd10cm.inclusion_terms(code)) if description else set()
    if extra:
        findings.append(Finding("warning", "icd-display-mismatch",
                                f"{code}: source says '{description}', ICD-10-CM says '{official}'",
                                source, ICD10CM, code, description, official))
    return findings


def specialty_matches(specialty: str, tax: Taxonomy) -> bool:
    return not says_more_than(specialty, tax.classification, tax.specialization, tax.display)


def find_taxonomy(specialty: str, nucc: NuccTable) -> Taxonomy | None:
    """The NUCC code whose name fits the specialty best: every content word present, then fewest extra words,
    individual physicians first (the documents list who performs a procedure)."""
    wanted = content_words(specialty)
    if not wanted:
        return None
    best = None
    for tax in nucc.codes.values():
        if not specialty_matches(specialty, tax):
            continue
        name = tax.specialization or tax.classification
        key = (0 if "physician" in tax.grouping.lower() else 1, len(content_words(name) - wanted),
               0 if not tax.specialization or content_words(tax.specialization) >= wanted else 1, tax.code)
        if best is None or key < best[0]:
            best = (key, tax)
    return best[1] if best else None


def check_nucc(row: TaxonomyRow, nucc: NuccTable) -> list[Finding]:
    tax = nucc.get(row.code)
    if tax is None:
        return [Finding("error", "nucc-unknown", f"NUCC {nucc.version} has no taxonomy code {row.code}", row.source,
                        NUCC, row.code, row.specialty, "(no such code)")]
    if specialty_matches(row.specialty, tax):
        return []
    fix = find_taxonomy(row.specialty, nucc)
    hint = f"; by specialty name: {fix.code} {fix.display}" if fix else "; no NUCC code matches the specialty name"
    return [Finding("warning", "nucc-specialty-mismatch",
                    f"{row.code}: source says '{row.specialty}', NUCC says '{tax.display}'{hint}",
                    row.source, NUCC, row.code, row.specialty, tax.display)]


def check_codes(documents: list[DocumentFacts], nucc: NuccTable) -> list[Finding]:
    """ICD-10-CM codes against the code set; taxonomy codes against NUCC (the embedded release, or --nucc): every
    build has a NUCC table, so taxonomy codes are always checked."""
    findings = []
    for doc in documents:
        for fact in doc.facts:
            if isinstance(fact, DiagnosisRow):
                findings += check_icd(fact.code, fact.description, fact.source)
            elif isinstance(fact, GovernedCode) and fact.system == ICD10CM:
                findings += check_icd(fact.code, fact.description, fact.source)
            elif isinstance(fact, TaxonomyRow):
                findings += check_nucc(fact, nucc)
    return findings
