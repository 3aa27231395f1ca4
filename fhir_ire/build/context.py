"""What every resource builder shares: the documents, findings, options, ids, and the sources of each resource."""

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from fhir_ire.codesets.nucc import NuccTable
from fhir_ire.errors import BuildError
from fhir_ire.facts import DocumentFacts, Source

MAPPING_POLICIES = {
    "correct": "a taxonomy code whose NUCC meaning differs from the specialty named is replaced by the NUCC code "
               "for that specialty; ICD-10-CM displays are the official titles; category codes are kept with a comment",
    "annotate": "source codes are kept as written, with the official display and a comment that says what is wrong",
    "omit": "mappings whose code contradicts the code set (wrong taxonomy, non-billable ICD-10-CM) are left out",
}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


@dataclass
class BuildContext:
    """Every lookup here is indexed once (documents by file, sources by resource, findings by code), so the build
    stays linear in the number of documents."""

    documents: list[DocumentFacts]
    base: str
    nucc: NuccTable | None
    mapping_policy: str
    as_of: date
    findings: list = field(default_factory=list)
    cache: dict = field(default_factory=dict)  # what builders compute once per build and share
    sources: dict[str, dict[Source, None]] = field(default_factory=lambda: defaultdict(dict))  # ordered sets
    _findings_index: tuple = field(default=(0, {}), init=False, repr=False)
    evaluated: dict = field(default_factory=dict, init=False, repr=False)  # FHIRPath texts checked by the build
    folder: Path | None = None  # where the documents are: their bytes are read again when needed, not kept
    _last_read: tuple = field(default=("", b""), init=False, repr=False)

    def doc_id(self, file: str) -> str:
        return "doc-" + slug(file.rsplit(".", 1)[0])

    @cached_property
    def _by_file(self) -> dict[str, DocumentFacts]:
        return {d.file: d for d in reversed(self.documents)}  # the first document of a name wins, as before

    def doc(self, file: str) -> DocumentFacts:
        return self._by_file[file]

    def content(self, file: str) -> bytes:
        """A document's bytes: those the reader kept, else read again from the folder (the last one is kept, since
        a builder asks for one document several times in a row), refused if they changed since they were read."""
        doc = self.doc(file)
        if doc.content or self.folder is None:
            return doc.content
        if self._last_read[0] != file:
            try:
                raw = (self.folder / file).read_bytes()
            except OSError as e:
                raise BuildError(f"cannot read the document again: {e.strerror}", file) from None
            if hashlib.sha256(raw).hexdigest() != doc.sha256:
                raise BuildError("the document changed while the build ran; build again", file)
            self._last_read = (file, raw)
        return self._last_read[1]

    def cite(self, resource: dict, *sources: Source) -> None:
        """Record that a resource was derived from these quoted sources (Provenance is built from this)."""
        cited = self.sources[f"{resource['resourceType']}/{resource['id']}"]
        for s in sources:
            cited[s] = None

    def url(self, rtype: str, rid: str) -> str:
        return f"{self.base}/{rtype}/{rid}"

    def facts(self, cls, kind: str | None = None):
        """(document, fact) pairs of one fact class across all documents, in file order."""
        return [(d, f) for d in self.documents if kind in (None, d.kind) for f in d.facts if isinstance(f, cls)]

    def findings_for(self, code: str, value: str | None = None) -> list:
        count, index = self._findings_index
        if count != len(self.findings):  # findings are appended while the build runs: index again when they grow
            index = defaultdict(list)
            for f in self.findings:
                index[f.code].append(f)
            self._findings_index = (len(self.findings), index)
        return [f for f in index.get(code, []) if value is None or f.value == value]

    @cached_property
    def recorded(self) -> str:
        """A deterministic 'recorded' instant: the newest date any document states (read once per build)."""
        dates = [f.value for d in self.documents for f in d.facts
                 if getattr(f, "name", "").endswith("date") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", getattr(f, "value", ""))]
        return (max(dates) if dates else "1970-01-01") + "T00:00:00Z"


def citation(ctx: BuildContext, src: Source, label: str | None = None) -> dict:
    """A RelatedArtifact citing a quoted sentence of a source document."""
    doc = ctx.doc(src.file)
    return {"type": "citation", "label": label or src.cite(), "display": f"{doc.title} ({src.cite()})",
            "citation": src.quote, "document": {"url": f"DocumentReference/{ctx.doc_id(src.file)}",
                                                "title": doc.title, "contentType": "text/plain"}}


def concept_ref(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding
