"""Document readers, one module per document kind, chosen by content (never by file name)."""

from pathlib import Path

from fhir_ire.errors import BuildError
from fhir_ire.facts import DocumentFacts
from fhir_ire.sources import code_report, guide, policy
from fhir_ire.sources.document import read_document

READERS = (
    ("code-report", code_report.looks_like, code_report.read_code_report),
    ("reimbursement-guide", guide.looks_like, guide.read_guide),
    ("payer-policy", policy.looks_like, policy.read_policy),
)
MIN_SCORE = 6


def detect_kind(doc) -> str:
    scores = sorted(((looks(doc), kind) for kind, looks, _ in READERS), reverse=True)
    best, kind = scores[0]
    if best < MIN_SCORE:
        raise BuildError("unrecognised document: not a code report, reimbursement guide or payer policy", doc.name)
    return kind


def read_source(path: Path) -> DocumentFacts:
    """Read one document with the reader its content calls for."""
    doc = read_document(path)
    try:
        kind = detect_kind(doc)
        read = next(r for k, _, r in READERS if k == kind)
        title, facts = read(doc)
    except BuildError as e:
        if e.file == doc.name:  # readers know the file by name; the user gave a path
            raise BuildError(e.message, str(path), e.line) from None
        raise
    return DocumentFacts(file=doc.name, kind=kind, title=title, sha256=doc.sha256, size=doc.size, facts=facts,
                         content=doc.content)


def read_sources(folder: Path) -> list[DocumentFacts]:
    """Every visible file in the folder, in name order. A missing or empty folder raises BuildError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BuildError("source folder not found", str(folder))
    # anything but a folder is a document: a FIFO or device file is refused by name, never skipped silently
    paths = sorted(p for p in folder.iterdir() if not p.is_dir() and not p.name.startswith("."))
    if not paths:
        raise BuildError("source folder has no documents", str(folder))
    return [read_source(p) for p in paths]
