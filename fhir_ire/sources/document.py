"""A source document as lines, plus a "flow" view that joins lines so sentences broken by PDF extraction match."""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from fhir_ire.errors import BuildError
from fhir_ire.facts import Source
from fhir_ire.files import MAX_DOCUMENT_BYTES, FileRefused, read_limited

_SPACE = re.compile(r"\s+")


@dataclass
class Document:
    name: str
    lines: list[str]
    sha256: str
    size: int
    content: bytes = field(default=b"", repr=False)  # the file's bytes, published in the DocumentReference

    def __post_init__(self):
        parts, starts, pos = [], [], 0
        for n, line in enumerate(self.lines, start=1):
            text = _SPACE.sub(" ", line).strip()
            if not text:
                continue
            starts.append((pos, n))
            parts.append(text)
            pos += len(text) + 1
        self.flow = " ".join(parts)
        self._starts = starts

    def line_at(self, offset: int) -> int:
        """The line number a flow offset falls on."""
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid][0] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return self._starts[lo][1] if self._starts else 1

    def source_of_span(self, start: int, end: int) -> Source:
        """A Source for flow[start:end] (line breaks shown as single spaces)."""
        quote = self.flow[start:end].strip()
        return Source(self.name, self.line_at(start), self.line_at(max(start, end - 1)), quote)

    def source_of_line(self, n: int, end: int | None = None) -> Source:
        end = end or n
        parts = (_SPACE.sub(" ", self.lines[i - 1]).strip() for i in range(n, end + 1))
        quote = " ".join(p for p in parts if p)
        return Source(self.name, n, end, quote)

    def sentences(self, within_lines: bool = False):
        """(start, end) flow spans of sentences; bullets end a sentence too. within_lines: a line break ends one
        as well (documents whose lines are paragraphs, unlike PDF text wrapped mid-sentence)."""
        if within_lines:
            bounds = [(pos, pos + len(_SPACE.sub(" ", self.lines[n - 1]).strip())) for pos, n in self._starts]
        else:
            bounds = [(0, len(self.flow))]
        for lo, hi in bounds:
            for m in _SENTENCE.finditer(self.flow, lo, hi):
                text = m.group(0)
                if text.strip():
                    lead = len(text) - len(text.lstrip())
                    yield m.start() + lead, m.end()


_SENTENCE = re.compile(r"[^.!?•]+(?:[.!?](?=\s|$)|(?=•)|$)")


def read_document(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> Document:
    """Read and vet one document: empty, binary, non-UTF-8, unreadable, too large or not regular files (FIFOs,
    devices) raise BuildError naming it."""
    try:
        raw = read_limited(path, limit)
    except FileRefused as e:
        raise BuildError(f"document {e}", str(path)) from None
    if not raw.strip():
        raise BuildError("document is empty", str(path))
    if b"\x00" in raw:
        raise BuildError("document is binary (contains NUL bytes), not text", str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise BuildError(f"document is not valid UTF-8 (byte 0x{raw[e.start]:02x})", str(path), line) from None
    if not text.strip():
        raise BuildError("document is empty (only white space)", str(path))
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text) // 100):
        raise BuildError("document looks binary (control characters), not text", str(path))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Document(path.name, lines, hashlib.sha256(raw).hexdigest(), len(raw), raw)
