"""The layout model: any rendering of a document (markdown, text extracted from a PDF, a web page turned to text) as
blocks, each with its line span. Headings; paragraphs (wrapped lines joined); list items (numbered, lettered, roman,
bullets of any glyph, bullets run into a paragraph) with their nesting level; tables (pipes with or without the
leading '|', key-value rows, tab- or space-aligned columns); fields ('Label: value', the value on the next line, a
known label before its value without a colon, labels run into the value before them). Readers work on blocks, never
on raw lines, so emphasis, glyphs and wrapping never hide a sentence."""

import re

from fhir_ire.sources import columns, shapes
from fhir_ire.sources.blocks import SEPARATOR, Block, Layout, is_heading
from fhir_ire.sources.labels import Labels, normal
from fhir_ire.sources.lists import LONE_MARKER, MARKER, ListReading, indent_of
from fhir_ire.sources.tables import TableReading
from fhir_ire.sources.text import Passage, plain

_INLINE_BULLET = re.compile(r"\s[•▪●◦■➢►▸]\s")
_TERMINAL = (".", "!", "?", ":", ";")
# a label and its value joined by a leader of dots ('Effective Date ........ 11/15/2024'); a page number after the
# leader makes the line a table-of-contents entry
_LEADER = re.compile(r"^(?P<label>\S.*?)\s*(?:\.{4,}|…{2,}|_{4,})\s*(?P<value>\S.*)$")
_PAGE_NUMBER = re.compile(r"^\d{1,3}$")
_CRUMB = re.compile(r"\s[>›»]\s")
# a markdown heading ('## At a glance') is a heading whatever its case
_MD_HEADING = re.compile(r"#{1,6}\s+\S")
# running page headers and footers ('Page 1 of 14', 'Page: 4 of 5') never open a section
PAGE_FURNITURE = re.compile(r"\bPage:?\s*\d+\s+of\s+\d+\b", re.I)
# a line that opens with a code and its descriptor ('60661 Ablation of ...') starts a block of its own
_CODE_START = re.compile(rf"^(?:(?:CPT®?\s*)?{shapes.PROCEDURE_CODE}\s*[-–:]?|[0-9A-Z]{{2}}\s+[-–])\s+[A-Z][a-z]")


class _Reader(ListReading, TableReading):
    def __init__(self, file: str, lines: list[str], labels: Labels):
        self.file, self.labels = file, labels
        drawn = columns.rules(lines)  # rules carry no text; the line a rule underlines is a heading (setext)
        self.lines = ["" if i in drawn else line for i, line in enumerate(lines)]
        self.underlined = {i - 1 for i in drawn if i > 0 and lines[i - 1].strip() and i - 1 not in drawn
                           and lines[i].strip()[:1] in "=-"}
        self.blocks: list[Block] = []
        self.item_indents: list[tuple[int, str]] = []  # (indent, numbering style) of each open list level
        self.furniture = columns.page_furniture(lines)  # running headers and footers: out of the flow

    def passage(self, start: int, end: int, text: str | None = None) -> Passage:
        """Lines start..end (1-based, inclusive) as a passage; text replaces a single line's text."""
        if text is not None:
            return Passage(self.file, [(start, text)])
        return Passage(self.file, [(n, self.lines[n - 1]) for n in range(start, end + 1)])

    def add(self, block: Block):
        if block.text:
            self.blocks.append(block)

    def next_text(self, i: int) -> str:
        for j in range(i + 1, min(i + 4, len(self.lines))):
            if self.lines[j].strip():
                return plain(self.lines[j])
        return ""

    def read(self) -> list[Block]:
        i, n = 0, len(self.lines)
        while i < n:
            line = self.lines[i]
            text = plain(line)
            if not text or text == "|" or set(text) <= set("| ") or i in self.furniture:
                i += 1
            elif columns.is_term(text) and (pairs := columns.definition_pairs(self.lines, i)):
                i = self.definitions(pairs)
            elif columns.is_term(text) and i + 1 < n and columns.is_term(plain(self.lines[i + 1])) \
                    and (pairs := columns.definition_pairs(self.lines, i + 1)):
                self.add(Block("heading", self.passage(i + 1, i + 1)))  # the caption over a definition list
                i = self.definitions(pairs)
            elif "|" in line and not SEPARATOR.match(line.strip()):
                i = self.table(i)
            elif "\t" in line.strip() and not MARKER.match(line.lstrip()):
                i = self.tab_table(i)
            elif columns.has_columns(line) and (aligned := columns.aligned_rows(self.file, self.lines, i,
                                                                                 self.furniture)):
                rows, i = aligned
                self.rows_block(rows)
            elif SEPARATOR.match(line.strip()):
                i += 1
            elif LONE_MARKER.match(line.strip()) and i + 1 < n:
                j = next((k for k in range(i + 1, n) if self.lines[k].strip()), None)
                if j is None:
                    break
                i = self.text_line(j, item_indent=indent_of(line), marker=line.strip())
            elif m := MARKER.match(line.lstrip()):
                i = self.item(i, m)
            else:
                i = self.text_line(i)
        return self.blocks

    # -- text lines: fields, headings, paragraphs -------------------------------------------------------------

    def text_line(self, i: int, item_indent: int | None = None, marker: str = "") -> int:
        line = self.lines[i]
        text = plain(line)
        if item_indent is not None:
            block = self.line_block(i, line)
            kind = block.kind if block.kind == "field" else "item"
            self.add(Block(kind, block.text, level=self.level(item_indent, marker), marker=marker, label=block.label,
                           value=block.value))
            return i + 1
        if m := _LEADER.match(text):
            if _PAGE_NUMBER.match(m.group("value")):  # a table-of-contents entry, not a section
                self.add(Block("paragraph", self.passage(i + 1, i + 1)))
                return i + 1
            text = f"{m.group('label')}: {m.group('value')}"
        fields = self.labels.split_fields(text)
        if fields:
            for label, value, rest in fields:
                self.add_field(i + 1, label, value, rest)
            return i + 1
        if self.labels.is_label(text.rstrip(":# ").strip()):  # a label alone: its value on the next line
            j = next((k for k in range(i + 1, min(i + 4, len(self.lines))) if self.lines[k].strip()), None)
            if j is not None and (checked := self.check_table(j)):
                label = text.rstrip(":# ").strip()
                end, names = checked
                self.add(Block("field", self.passage(i + 1, end), label=label,
                               value=Passage(self.file, names)))
                return end
            if j is not None:
                value = plain(self.lines[j])
                colon = text.endswith(":") and not text.isupper()  # 'POLICY:' is a heading
                dated = any(shapes.find_dates(value)) and len(value.split()) <= 10 and any(
                    role.endswith("-date") for role, _ in self.labels.roles.get(normal(text.rstrip(":# ")), []))
                if shapes.is_value(value) or dated or (colon and len(value.split()) <= 14 and not value.endswith(".")
                                                       and not self.labels.is_label(value.rstrip(":"))
                                                       and not MARKER.match(self.lines[j].lstrip())):
                    label = text.rstrip(":").strip()
                    self.add(Block("field", self.passage(i + 1, j + 1), label=label,
                                   value=self.passage(j + 1, j + 1)))
                    return j + 1
        self.item_indents = []
        if is_heading(text, self.next_text(i)) or self.is_caption(i, text) or _MD_HEADING.match(line.lstrip()) \
                or i in self.underlined or len(_CRUMB.findall(text)) >= 2:  # a breadcrumb: navigation, not prose
            self.add(Block("heading", self.passage(i + 1, i + 1)))
            return i + 1
        return self.paragraph(i)

    def is_caption(self, i: int, text: str) -> bool:
        """A short line in sentence case set over the block right under it, after a blank line ('Quick facts',
        'Modifiers commonly used', 'Billing notes'): a heading as web pages write them."""
        words = text.split()
        nxt = self.lines[i + 1].strip() if i + 1 < len(self.lines) else ""
        return 1 <= len(words) <= 4 and text[:1].isupper() and not text.endswith((".", ",", ";", ":", "?", "!")) \
            and (i == 0 or not self.lines[i - 1].strip()) and bool(nxt) and not plain(nxt)[:1].islower() \
            and not shapes.is_value(text) and not shapes.is_code_line(text) and not any(ch.isdigit() for ch in text)

    def line_block(self, i: int, line: str) -> Block:
        fields = self.labels.split_fields(plain(line))
        if len(fields) == 1 and not fields[0][2]:
            label, value, _ = fields[0]
            return Block("field", self.passage(i + 1, i + 1), label=label, value=Passage(self.file, [(i + 1, value)]))
        return Block("paragraph", self.passage(i + 1, i + 1))

    def add_field(self, number: int, label: str, value: str, rest: str):
        self.add(Block("field", Passage(self.file, [(number, f"{label}: {value}")]), label=label,
                       value=Passage(self.file, [(number, value)])))
        if rest:
            self.add_paragraph(Passage(self.file, [(number, rest)]))

    def paragraph(self, i: int) -> int:
        parts, j = [(i + 1, self.lines[i])], i + 1
        while j < len(self.lines):
            prev, nxt = plain(self.lines[j - 1]), self.lines[j]
            text = plain(nxt)
            if not text or "|" in nxt or MARKER.match(nxt.lstrip()) or LONE_MARKER.match(nxt.strip()) \
                    or j in self.furniture:
                break
            if prev.endswith(_TERMINAL) or self.labels.split_fields(text) or (
                    _CODE_START.match(text) and not prev.endswith((",", "and", "or", "with"))):
                break
            if not (text[:1].islower() or len(prev) >= 50 or text[:1].isdigit() and not shapes.is_code_line(text)):
                break
            parts.append((j + 1, nxt))
            j += 1
        self.add_paragraph(Passage(self.file, parts))
        return j

    def add_paragraph(self, text: Passage):
        """A paragraph, split where bullets are run into it ('... only if: • A, and • B')."""
        cuts = [m.start() for m in _INLINE_BULLET.finditer(text.clean)]
        if not cuts:
            self.add(Block("paragraph", text))
            return
        bounds = [0] + cuts + [len(text.clean)]
        for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
            part = text.part(a + (2 if k else 0), b)
            self.add(Block("item" if k else "paragraph", part, level=0, marker="•" if k else ""))

def _sections(blocks: list[Block]) -> None:
    current = ""
    for b in blocks:
        if b.kind == "heading" and not PAGE_FURNITURE.search(b.clean):
            current = b.clean.rstrip(":").strip()
        b.section = current


def read_layout(file: str, lines: list[str], labels: Labels | None = None) -> Layout:
    """The blocks of a document's lines (1-based line numbers in every Source)."""
    labels = labels or Labels.load()
    reader = _Reader(file, lines, labels)
    blocks = reader.read()
    _sections(blocks)
    seen, furniture = set(), []
    for i in sorted(reader.furniture):
        text = " ".join(lines[i].replace("\f", " ").split())
        if text and text not in seen:
            seen.add(text)
            furniture.append(Passage(file, [(i + 1, lines[i].replace("\f", " "))]))
    last = plain(next((ln for ln in reversed(lines) if ln.strip()), ""))
    truncated = bool(lines) and lines[-1] != "" and not re.search(r"[.!?][\"')\]]*$", last)
    return Layout(file, blocks, truncated, furniture)
