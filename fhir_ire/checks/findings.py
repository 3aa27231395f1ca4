"""QA findings and their FHIR OperationOutcome (one issue per finding)."""

from dataclasses import dataclass

from fhir_ire.facts import Source
from fhir_ire.uris import CS_FINDING

# finding code -> OperationOutcome issue type
ISSUE_TYPES = {
    "icd-unknown": "code-invalid", "icd-not-billable": "business-rule", "icd-display-mismatch": "code-invalid",
    "nucc-unknown": "code-invalid", "nucc-specialty-mismatch": "code-invalid",
    "descriptor-conflict": "business-rule", "payment-conflict": "business-rule", "payment-stale": "business-rule",
    "table-cut-off": "incomplete", "policy-no-codes": "incomplete", "data-not-available": "informational",
    "document-left-out": "not-supported", "document-partly-read": "incomplete", "payer-unknown": "incomplete",
    "codes-inferred": "informational", "table-row-short": "incomplete", "manifest-unknown-document": "not-found",
}
SEVERITY_ORDER = {"error": 0, "warning": 1, "information": 2}


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | information
    code: str  # a key of ISSUE_TYPES
    message: str
    source: Source | None = None
    system: str | None = None
    value: str | None = None  # the code the finding is about
    source_says: str = ""
    codeset_says: str = ""

    def line(self) -> str:
        where = self.source.cite() if self.source else "-"
        return f"{self.severity:<11} {self.code:<24} {where:<32} {self.message}"

    def sort_key(self):
        src = self.source
        return (SEVERITY_ORDER[self.severity], self.code, src.file if src else "", src.line if src else 0,
                self.value or "", self.message)


def to_issue(finding: Finding, base: str) -> dict:
    ext = [{"url": name, "valueString": value} for name, value in (
        ("system", finding.system), ("code", finding.value), ("source-says", finding.source_says),
        ("codeset-says", finding.codeset_says)) if value]
    if finding.source:
        ext += [{"url": "file", "valueString": finding.source.file},
                {"url": "line", "valueInteger": finding.source.line},
                {"url": "quote", "valueString": finding.source.quote}]
    issue = {
        "severity": finding.severity,
        "code": ISSUE_TYPES[finding.code],
        "details": {"coding": [{"system": base + CS_FINDING, "code": finding.code}], "text": finding.message},
    }
    if finding.source:
        issue["location"] = [f"{finding.source.file}#L{finding.source.line}"]
    if ext:
        issue["extension"] = [{"url": base + "/StructureDefinition/qa-finding", "extension": ext}]
    return issue


def to_operation_outcome(findings: list[Finding], base: str) -> dict:
    issues = [to_issue(f, base) for f in sorted(findings, key=Finding.sort_key)]
    if not issues:
        issues = [{"severity": "information", "code": "informational", "details": {"text": "No findings"}}]
    return {"resourceType": "OperationOutcome", "id": "qa-outcome", "issue": issues}
