"""Where a quote sits in its source document, read from the citations the build writes ("file.txt:12-14" in a
RelatedArtifact label, a Provenance entity display, a QA location), and the address of that place on the pages."""

import re

# "name.txt:12", "name.txt:12-14" (a label), or the same followed by ': "quote"' (a Provenance entity display).
_SPAN = re.compile(r"^(?P<file>[^\s:\"][^:\"]*?):(?P<line>\d+)(?:[-–](?P<end>\d+))?(?=$|[:\s)])")
_LOCATION = re.compile(r"^(?P<file>[^#]+)#L(?P<line>\d+)(?:-L?(?P<end>\d+))?$")


def line_span(text: str | None) -> tuple[str, int, int] | None:
    """(file, first line, last line) of a citation label or Provenance display; None when it names no lines."""
    m = _SPAN.match(text or "") or _LOCATION.match(text or "")
    if not m:
        return None
    line = int(m["line"])
    return m["file"], line, max(line, int(m["end"] or line))


def document_id(reference: str | None) -> str | None:
    """The id in 'DocumentReference/{id}' (relative or absolute), else None."""
    if not reference or "DocumentReference/" not in reference:
        return None
    return reference.rsplit("DocumentReference/", 1)[1].split("/")[0].split("#")[0] or None


def source_page(pages_base: str, doc_id: str, line: int | None = None) -> str:
    """The sources page of a document, deep-linked to a line when one is given."""
    return f"{pages_base}/sources/{doc_id}" + (f"#L{line}" if line else "")


def cited_page(pages_base: str, artifact: dict) -> str | None:
    """The sources page (at the quoted line) a RelatedArtifact citation points to; None when it cites no document."""
    doc_id = document_id((artifact.get("document") or {}).get("url"))
    if doc_id is None:
        return None
    span = line_span(artifact.get("label")) or line_span(_parenthesised(artifact.get("display")))
    return source_page(pages_base, doc_id, span[1] if span else None)


def _parenthesised(text: str | None) -> str | None:
    """'Title (file.txt:4-5)' -> 'file.txt:4-5'."""
    if text and text.endswith(")") and "(" in text:
        return text[text.rindex("(") + 1:-1]
    return None
