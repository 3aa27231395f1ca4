"""The optional source manifest, seeds/sources.json: what only the user knows about a document (where it came from,
when it was retrieved, the payer it is from when its text never names it, its kind). Its facts cite the manifest
itself, line by line, so they are as traceable as the documents' own."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from fhir_ire.errors import BuildError
from fhir_ire.facts import PolicyField, Source
from fhir_ire.files import FileRefused, read_limited
from fhir_ire.sources.shapes import parse_date

MANIFEST = "sources.json"
FIELDS = {"address": "address", "retrieved": "retrieved-date", "payer": "payer", "publisher": "publisher",
          "title": "title", "kind": "kind", "line_of_business": "line-of-business"}
KINDS = ("code-report", "reimbursement-guide", "payer-policy")


@dataclass
class Manifest:
    entries: dict = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def entry(self, file: str) -> dict:
        return self.entries.get(file, {})

    def facts(self, file: str) -> list[PolicyField]:
        """The entry's fields as facts whose source is the manifest line that states them."""
        out = []
        for key, value in sorted(self.entry(file).items()):
            name = FIELDS.get(key)
            if not name or name == "kind":
                continue
            line = self._line(file, key)
            quote = " ".join(self.lines[line - 1].split()) if line else f'"{key}": "{value}"'
            out.append(PolicyField(source=Source(MANIFEST, line or 1, line or 1, quote), name=name,
                                   value=parse_date(value) or value if name.endswith("-date") else value))
        return out

    def document(self):
        """The manifest as a source document, so the facts it gives are cited like any document's."""
        import hashlib

        from fhir_ire.facts import DocumentFacts

        raw = "\n".join(self.lines).encode("utf-8")
        return DocumentFacts(file=MANIFEST, kind="source-manifest", title="Source manifest (sources.json)",
                             sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), content=raw)

    def _line(self, file: str, key: str) -> int:
        inside = False
        for n, text in enumerate(self.lines, start=1):
            if f'"{file}"' in text:
                inside = True
            if inside and f'"{key}"' in text:
                return n
        return 0


def read_manifest(folder: Path) -> Manifest:
    """The manifest in the folder, or an empty one. A manifest that is not valid JSON of the documented shape raises
    BuildError naming it."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return Manifest()
    try:
        text = read_limited(path).decode("utf-8")
        data = json.loads(text)
    except (FileRefused, UnicodeDecodeError) as e:
        raise BuildError(f"source manifest cannot be read: {e}", str(path)) from None
    except json.JSONDecodeError as e:
        raise BuildError(f"source manifest is not valid JSON: {e.msg}", str(path), e.lineno) from None
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, dict):
        raise BuildError('source manifest has no "documents" object (file name -> fields)', str(path))
    for name, entry in documents.items():
        if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
            raise BuildError(f'source manifest entry "{name}" must map field names to strings', str(path))
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            raise BuildError(f'source manifest entry "{name}" has unknown fields {unknown}; known: '
                             f"{sorted(FIELDS)}", str(path))
        if entry.get("kind") and entry["kind"] not in KINDS:
            raise BuildError(f'source manifest entry "{name}": kind must be one of {list(KINDS)}', str(path))
        if entry.get("retrieved") and not parse_date(entry["retrieved"]):
            raise BuildError(f'source manifest entry "{name}": retrieved is not a date', str(path))
    return Manifest(documents, text.split("\n"))
