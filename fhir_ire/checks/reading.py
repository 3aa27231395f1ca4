"""Findings about the reading itself: documents left out (not one of the three kinds), documents read only in part
(what a document of its kind usually says and this one does not), short table rows, manifest entries for files that
are not there."""

from fhir_ire.checks.findings import Finding
from fhir_ire.facts import DocumentFacts, Source, TableCutOff


def _first_line(doc: DocumentFacts) -> Source | None:
    text = doc.content.decode("utf-8", "replace") if doc.content else ""
    n, line = next(((n, ln) for n, ln in enumerate(text.split("\n"), start=1) if ln.strip()), (1, ""))
    return Source(doc.file, n, n, " ".join(line.split())[:200]) if line else None


def check_reading(documents: list[DocumentFacts], manifest_files: set[str] = frozenset()) -> list[Finding]:
    findings = []
    for doc in documents:
        if doc.left_out:
            findings.append(Finding("warning", "document-left-out", f"{doc.file} left out: {doc.left_out}",
                                    _first_line(doc), value=doc.file))
        elif doc.missing:
            findings.append(Finding("information", "document-partly-read",
                                    f"{doc.file} partly read ({doc.kind}): no {', '.join(doc.missing)} in the text",
                                    _first_line(doc), value=doc.file))
        for f in doc.of(TableCutOff):
            if f.rows < 0:
                findings.append(Finding("warning", "table-row-short", f"{f.table} table row has fewer cells than "
                                        "its header; the row is left out", f.source))
    for name in sorted(manifest_files - {d.file for d in documents}):
        findings.append(Finding("warning", "manifest-unknown-document", f"sources.json describes {name}, which is not "
                                "in the source folder", value=name))
    return findings


def status_line(doc: DocumentFacts) -> str:
    """One line per document for the build report."""
    if doc.left_out:
        return f"  left out     {doc.file}: {doc.left_out}"
    if doc.missing:
        return f"  partly read  {doc.file} ({doc.kind}, {len(doc.facts)} facts): no {', '.join(doc.missing)}"
    return f"  read         {doc.file} ({doc.kind}, {len(doc.facts)} facts)"
