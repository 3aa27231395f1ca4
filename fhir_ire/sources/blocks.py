"""The blocks of the layout model (fhir_ire/sources/layout.py): a table row, a block with its line span and section,
a document's layout; and what a line is (a heading's shape, a table row's cells, a check mark)."""

import re
from dataclasses import dataclass, field

from fhir_ire.sources import shapes
from fhir_ire.sources.text import Passage

SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
CHECK_MARKS = {"x", "✓", "✔", "☒", "☑", "yes", "y"}


@dataclass
class Row:
    line: int
    cells: list[Passage]
    raw: str = ""  # the row's line as written

    def source(self, file: str):
        from fhir_ire.facts import Source
        return Source(file, self.line, self.line, " ".join(self.raw.split()))


@dataclass
class Block:
    kind: str  # heading | paragraph | item | table | field
    text: Passage
    level: int = 0
    marker: str = ""
    label: str = ""  # a field's label as written (clean)
    value: Passage | None = None  # a field's value
    rows: list[Row] = field(default_factory=list)  # a table's rows (the header row first when it has one)
    header: bool = False  # the table's first row is a header (a separator line follows it)
    section: str = ""  # the text of the heading this block falls under
    cell: bool = False  # a paragraph a table cell says (the table stays where it is, before it)

    @property
    def line(self) -> int:
        return self.text.line

    @property
    def end_line(self) -> int:
        return self.text.end_line

    @property
    def clean(self) -> str:
        return self.text.clean

    def __repr__(self) -> str:
        extra = f" {self.label!r}=" if self.kind == "field" else f" L{self.level}" if self.kind == "item" else ""
        return f"<{self.kind}{extra} {self.line}-{self.end_line}: {(self.value or self.text).clean[:70]!r}>"


@dataclass
class Layout:
    file: str
    blocks: list[Block]
    truncated: bool  # the text stops mid-sentence with no final newline: it was cut
    furniture: list[Passage] = field(default_factory=list)  # running headers and footers, once each


def cells_of(line: str) -> list[str]:
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    text = text[:-1] if text.endswith("|") else text
    return [c.strip() for c in text.split("|")]


def is_heading(text: str, next_text: str) -> bool:
    """A short line that names a section: no sentence punctuation at its end, capitalised words, not a value."""
    words = text.split()
    if not words or len(words) > 14 or len(text) > 110 or text.endswith((".", ",", ";", "?", "!")):
        return False
    if shapes.is_code_line(text) or shapes.is_value(text) or not text[0].isalnum():
        return False
    if text.endswith(":"):
        return len(words) <= 6
    caps = [w for w in words if w[0].isalpha() and len(w) > 3]
    share = sum(w[0].isupper() for w in caps) / len(caps) if caps else 0
    title_case = share >= (0.6 if len(words) <= 10 else 0.85)
    return bool(text[0].isupper() and (title_case or text.isupper()) and not (next_text[:1].islower()))


def mark(text: str) -> bool | None:
    """True for a check mark ('X', 'Yes'), False for its absence ('No', 'No, see ...', '-'), None for anything else."""
    first = (text.split() or [""])[0].strip(".,;:").lower()
    return True if first in CHECK_MARKS else False if first in ("no", "n", "-", "–", "") else None
