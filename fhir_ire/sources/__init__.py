"""Document readers. Every document is first read into the layout model (blocks with line spans); its kind is chosen
by content, never by file name; the reader of that kind and the extractors every kind shares take its facts. A
document of a known kind contributes what it says and lists what it lacks; a text of no known kind is left out with
the reason. Only a file that cannot be read as text (empty, binary, not UTF-8, too large) stops the build."""

from functools import partial
from pathlib import Path

from fhir_ire.errors import BuildError
from fhir_ire.facts import DocumentFacts
from fhir_ire.sources import code_report, guide, policy
from fhir_ire.sources.codes import not_reported_with
from fhir_ire.sources.document import read_document
from fhir_ire.sources.fields import published_date, read_fields
from fhir_ire.sources.kinds import detect_kind
from fhir_ire.sources.layout import read_layout
from fhir_ire.sources.manifest import MANIFEST, Manifest, read_manifest
from fhir_ire.sources.payers import payer_fields

KINDS = ("code-report", "reimbursement-guide", "payer-policy")


def _read(kind: str, doc, layout, entry: dict):
    if kind == "payer-policy":
        return policy.read_policy(doc, layout, known_payer=entry.get("payer"))
    if kind == "code-report":
        title, facts, missing = code_report.read_code_report(doc, layout)
    else:
        title, facts, missing = guide.read_guide(doc, layout)
        facts += [] if entry.get("payer") else payer_fields(layout, kind)
    fields = [f for f in read_fields(layout) if f.name.endswith("-date") or f.name == "number"]
    if not any(f.name == "published-date" for f in fields):
        fields += published_date(layout)
    return title, fields + facts, missing


def read_source(path: Path, manifest: Manifest | None = None) -> DocumentFacts:
    """Read one document with the reader its content calls for (or the kind its manifest entry gives)."""
    doc = read_document(path)
    manifest = manifest or Manifest()
    entry = manifest.entry(doc.name)
    layout = read_layout(doc.name, doc.lines)
    kind, scores = detect_kind(layout)
    kind = entry.get("kind") or kind
    base = dict(file=doc.name, sha256=doc.sha256, size=doc.size, content=doc.content, manifest=entry)
    if kind is None:
        best = ", ".join(f"{k} {v}" for k, v in sorted(scores.items(), key=lambda kv: -kv[1]))
        return DocumentFacts(kind="", title=doc.name, left_out="not a code report, reimbursement guide or payer "
                             f"policy (kind scores: {best})", **base)
    title, facts, missing = _read(kind, doc, layout, entry)
    facts += not_reported_with(layout)
    facts += manifest.facts(doc.name)
    if entry.get("payer") and "payer" in missing:
        missing.remove("payer")
    return DocumentFacts(kind=kind, title=title, facts=facts, missing=tuple(missing), **base)


def read_sources(folder: Path, map_paths=None) -> list[DocumentFacts]:
    """Every visible file in the folder, in name order (the manifest, sources.json, is not a document). A missing or
    empty folder, an unreadable file or a broken manifest raises BuildError; a text of no known kind is returned
    left out. map_paths(function, paths) -> list may read the documents in several processes (each is read alone)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BuildError("source folder not found", str(folder))
    manifest = read_manifest(folder)
    # anything but a folder is a document: a FIFO or device file is refused by name, never skipped silently
    paths = sorted(p for p in folder.iterdir() if not p.is_dir() and not p.name.startswith(".") and p.name != MANIFEST)
    if not paths:
        raise BuildError("source folder has no documents", str(folder))
    if map_paths is None:
        return [read_source(p, manifest) for p in paths]
    return map_paths(partial(read_source, manifest=manifest), paths)
