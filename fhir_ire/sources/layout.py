"""The layout model: any rendering of a document (markdown, text extracted from a PDF, a web page turned to text) as
blocks, each with its line span. Headings; paragraphs (wrapped lines joined); list items (numbered, lettered, roman,
bullets of any glyph, bullets run into a paragraph) with their nesting level; tables (pipes with or without the
leading '|', key-value rows, tab- or space-aligned columns); fields ('Label: value', the value on the next line, a
known label before its value without a colon, labels run into the value before them). Readers work on blocks, never
on raw lines, so emphasis, glyphs and wrapping never hide a sentence."""

import re
from dataclasses import dataclass, field

from fhir_ire.sources import columns, shapes
from fhir_ire.sources.labels import Labels, normal
from fhir_ire.sources.text import Passage, plain

BULLETS = "-*•▪●◦○■□➢►▸‣⁃∙·–—◆◇❖➤→✓✔"
# PDF extraction writes Symbol/Wingdings bullets as private-use characters (U+F0B7, U+F0A7, U+F0D8 ...)
_GLYPHS = re.escape(BULLETS) + "\ue000-\uf8ff"
# a marker may be set in emphasis ('**A.** Text')
_MARKER = re.compile(r"^(?:\*\*|__)?(?P<marker>[" + _GLYPHS + r"]|o(?=\s+[A-Z])|\(?\d{1,2}[.)]|\(\d{1,2}\)"
                     r"|\(?[a-z][.)](?=\s)|\([a-z]\)|\(?(?:[ivx]{1,4}|[IVX]{1,4})[.)](?=\s|\*\*|__)"
                     r"|\(?[A-Z][.)](?=\s|\*\*|__)|\([A-Z]\))(?:\*\*|__)?\s+(?=\S)")
_LONE_MARKER = re.compile(r"^[" + _GLYPHS + r"]$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
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
_CHECK_MARKS = {"x", "✓", "✔", "☒", "☑", "yes", "y"}
# a line that opens with a code and its descriptor ('60661 Ablation of ...') starts a block of its own
_CODE_START = re.compile(rf"^(?:(?:CPT®?\s*)?{shapes.PROCEDURE_CODE}\s*[-–:]?|[0-9A-Z]{{2}}\s+[-–])\s+[A-Z][a-z]")


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


def _style(marker: str) -> str:
    """The numbering style of a list marker: lists nested without indentation ('1.' then 'a.' then '2.') are told
    apart by it."""
    core = marker.strip("().*_")
    if core.isdigit():
        return "number"
    if re.fullmatch(r"[ivx]+|[IVX]+", core):
        return "roman-" + ("upper" if core.isupper() else "lower")
    if re.fullmatch(r"[a-z]", core):
        return "lower"
    if re.fullmatch(r"[A-Z]", core):
        return "upper"
    return "bullet"


def _indent(line: str) -> int:
    head = line[: len(line) - len(line.lstrip())]
    return head.count("\t") * 4 + len(head.replace("\t", ""))


def _cells(line: str) -> list[str]:
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    text = text[:-1] if text.endswith("|") else text
    return [c.strip() for c in text.split("|")]


def _is_heading(text: str, next_text: str) -> bool:
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


class _Reader:
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
            elif pairs := columns.definition_pairs(self.lines, i):
                i = self.definitions(pairs)
            elif (pairs := columns.definition_pairs(self.lines, i + 1)) and columns.is_term(text):
                self.add(Block("heading", self.passage(i + 1, i + 1)))  # the caption over a definition list
                i = self.definitions(pairs)
            elif "|" in line and not _SEPARATOR.match(line.strip()):
                i = self.table(i)
            elif "\t" in line.strip() and not _MARKER.match(line.lstrip()):
                i = self.tab_table(i)
            elif columns.has_columns(line) and (aligned := columns.aligned_rows(self.file, self.lines, i,
                                                                                 self.furniture)):
                rows, i = aligned
                self.rows_block(rows)
            elif _SEPARATOR.match(line.strip()):
                i += 1
            elif _LONE_MARKER.match(line.strip()) and i + 1 < n:
                j = next((k for k in range(i + 1, n) if self.lines[k].strip()), None)
                if j is None:
                    break
                i = self.text_line(j, item_indent=_indent(line), marker=line.strip())
            elif m := _MARKER.match(line.lstrip()):
                i = self.item(i, m)
            else:
                i = self.text_line(i)
        return self.blocks

    # -- lists ------------------------------------------------------------------------------------------------

    def level(self, indent: int, marker: str = "") -> int:
        """The nesting level of an item: by its indent, and at one indent by its numbering style (an item in a style
        already open at that indent returns to that level; a new style opens a level below)."""
        stack = self.item_indents
        while stack and stack[-1][0] > indent:
            stack.pop()
        style = _style(marker)
        if style.startswith("roman") and len(marker.strip("().*_")) == 1:  # 'i.' after 'h.' is a letter
            letter = "upper" if style.endswith("upper") else "lower"
            style = letter if (indent, letter) in stack else style
        same = [k for k, (ind, _) in enumerate(stack) if ind == indent]
        keep = next((k for k in same if stack[k][1] == style), None)
        prev = self.blocks[-1] if self.blocks else None
        opens = prev is not None and prev.kind == "item" and prev.clean.endswith(":") and same \
            and prev.level == same[-1] == len(stack) - 1  # the item just before announces a list
        if keep is not None:
            del stack[keep + 1:]
        elif not same or opens:
            stack.append((indent, style))
        else:  # a new style at the same indent after a finished list: the same level
            del stack[same[-1]:]
            stack.append((indent, style))
        return len(stack) - 1

    def item(self, i: int, m) -> int:
        line = self.lines[i]
        indent = _indent(line)
        start_col = len(line) - len(line.lstrip()) + m.end()
        parts = [(i + 1, line[start_col:])]
        j = i + 1
        while j < len(self.lines):  # wrapped lines: indented past the marker, or starting lower-case
            nxt = self.lines[j]
            if not nxt.strip() or _MARKER.match(nxt.lstrip()) or "|" in nxt:
                break
            if not (_indent(nxt) > indent or plain(nxt)[:1].islower()) or self.labels.field_at_start(plain(nxt)):
                break
            parts.append((j + 1, nxt))
            j += 1
        first = Passage(self.file, parts[:1])
        if _style(m.group("marker")) == "number" and self.is_caption(i, first.clean) and i + 1 < len(self.lines) \
                and not _MARKER.match(self.lines[i + 1].lstrip()):
            # a numbered section heading over the paragraph right under it ('1. Lung tumors' / 'PacificSource
            # covers ...'), not an item of a list
            self.item_indents = []
            self.add(Block("heading", first))
            return i + 1
        text = Passage(self.file, parts)
        fields = self.labels.split_fields(text.clean) if len(parts) == 1 else []
        if len(fields) == 1 and not fields[0][2]:  # a bulleted field ('- Service type: ...')
            label, value, _ = fields[0]
            start = text.clean.index(value, len(label))
            self.add(Block("field", text, level=self.level(indent, m.group("marker")), marker=m.group("marker"),
                           label=label, value=text.part(start, start + len(value))))
            return j
        self.add(Block("item", text, level=self.level(indent, m.group("marker")), marker=m.group("marker")))
        return j

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
                                                       and not _MARKER.match(self.lines[j].lstrip())):
                    label = text.rstrip(":").strip()
                    self.add(Block("field", self.passage(i + 1, j + 1), label=label,
                                   value=self.passage(j + 1, j + 1)))
                    return j + 1
        self.item_indents = []
        if _is_heading(text, self.next_text(i)) or self.is_caption(i, text) or _MD_HEADING.match(line.lstrip()) \
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

    def check_table(self, i: int) -> tuple[int, list[tuple[int, str]]] | None:
        """(line after it, [(line, name)] of the rows marked) of a table of names with a check mark or none
        ('Commercial<tab>X', 'CHIP', 'Medicaid | X') starting at line index i; None when the lines are no such table."""
        rows, j = [], i
        while j < len(self.lines) and self.lines[j].strip():
            cells = [c.strip() for c in re.split(r"\t+|\|", self.lines[j].strip()) if c.strip()]
            if not cells or len(cells) > 2 or len(cells[0].split()) > 4 or cells[0].endswith((".", ":")) \
                    or (len(cells) == 2 and cells[1].lower() not in _CHECK_MARKS):
                break
            rows.append((j + 1, cells))
            j += 1
        if len(rows) < 2 or not any(len(c) == 2 for _, c in rows):
            return None
        return j, [(n, c[0]) for n, c in rows if len(c) == 2]

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
            if not text or "|" in nxt or _MARKER.match(nxt.lstrip()) or _LONE_MARKER.match(nxt.strip()) \
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

    # -- tables -----------------------------------------------------------------------------------------------

    def table(self, i: int) -> int:
        rows, j, header = [], i, False
        while j < len(self.lines):
            line = self.lines[j]
            closed = rows and self.lines[rows[-1].line - 1].rstrip().endswith("|")
            if rows and not closed and line.strip() and not line.lstrip().startswith("|") \
                    and self.lines[rows[0].line - 1].rstrip().endswith("|") and not _SEPARATOR.match(line.strip()):
                last = rows[-1]  # a cell broken over lines: its rest, and the row's other cells, on the next line
                more = _cells(line)
                last.cells[-1] = Passage(self.file, [(last.line, last.cells[-1].raw), (j + 1, more[0])])
                last.cells += [Passage(self.file, [(j + 1, c)]) for c in more[1:]]
                last.raw = f"{last.raw} {line.strip()}"
                j += 1
                continue
            if "|" not in line:
                break
            if rows and j + 1 < len(self.lines) and _SEPARATOR.match(self.lines[j + 1].strip()) \
                    and not _SEPARATOR.match(line.strip()):
                break  # this line is the header of the next table
            if _SEPARATOR.match(line.strip()):
                header = header or len(rows) == 1
            else:
                rows.append(Row(j + 1, [Passage(self.file, [(j + 1, c)]) for c in _cells(line)], line))
            j += 1
        if header and self.column_fields(rows):
            return j
        if header and not self.is_key_table(rows[1:]):
            self.item_indents = []
            self.add(Block("table", self.passage(rows[0].line, rows[-1].line), rows=rows, header=True))
            self.dated_rows(rows[1:])
            self.prose_cells(rows[1:])
            return j
        data: list[Row] = []
        # a key-value table set out in markdown has its first pair in the header row
        keyed_header = header and self.is_key(rows[0]) and not self.labels.is_label(rows[0].cells[1].clean)
        # rows of fields, key-value rows and single cells are not data
        for r in rows[0 if keyed_header or not header else 1:]:
            cells = [c for c in r.cells if c]
            fields = [self.labels.split_fields(c.clean) for c in cells]
            if len(cells) > 1 and all(f and not any(rest for _, _, rest in f) for f in fields):
                self.flush(data)
                for f in fields:
                    for label, value, _ in f:
                        self.add_field(r.line, label, value, "")
            elif len(cells) == 2 and self.is_key(r):
                self.flush(data)
                label = cells[0].clean.rstrip(":").strip()
                self.add(Block("field", Passage(self.file, [(r.line, f"{label}: {cells[1].raw}")]), label=label,
                               value=cells[1]))
            elif len(cells) == 1:
                self.flush(data)
                self.single_cell(r.line, cells[0])
            elif cells:
                data.append(r)
        self.flush(data)
        return j

    def tab_table(self, i: int) -> int:
        """Lines whose cells are separated by tabs (text extracted from a table). Rows of a label and its value are
        fields; so is a header row of labels over one row of values."""
        rows, j = [], i
        while j < len(self.lines) and "\t" in self.lines[j].strip():
            cells = re.split(r"\t+", self.lines[j].strip())
            rows.append(Row(j + 1, [Passage(self.file, [(j + 1, c)]) for c in cells], self.lines[j]))
            j += 1
        self.rows_block(rows)
        return j

    def rows_block(self, rows: list[Row]):
        """Rows of a tab- or space-aligned table as fields (label and value rows, a header of labels over one row of
        values, 'Label: | value | Label: | value' rows) or a table."""
        self.item_indents = []
        if all(len(r.cells) >= 4 and len(r.cells) % 2 == 0 and all(c.clean.endswith(":") for c in r.cells[::2])
               for r in rows):  # two fields side by side on each line ('Policy Number:   X      Date Effective:   Y')
            for r in rows:
                for label, value in zip(r.cells[::2], r.cells[1::2]):
                    name = label.clean.rstrip(":").strip()
                    self.add(Block("field", Passage(self.file, [(r.line, f"{name}: {value.raw}")]), label=name,
                                   value=value))
            return
        if self.column_fields(rows) or self.check_rows(rows):
            return
        if all(len(r.cells) == 2 for r in rows) and self.is_key_table(rows) and not self.labelled_header(rows):
            for r in rows:
                label = r.cells[0].clean.rstrip(":").strip()
                self.add(Block("field", Passage(self.file, [(r.line, f"{label}: {r.cells[1].raw}")]), label=label,
                               value=r.cells[1]))
            return
        self.add(Block("table", self.passage(rows[0].line, rows[-1].line), rows=rows,
                       header=self.labelled_header(rows)))
        self.dated_rows(rows)

    def definitions(self, pairs: list[tuple[int, int]]) -> int:
        """A definition list's pairs as fields ('Procedure type' / 'Percutaneous ...'); pairs whose term is a code
        ('19105' / 'Ablation, cryosurgical, ...', 'C50.411' / 'Malignant neoplasm ...') as rows of a code table."""
        self.item_indents = []
        rows: list[Row] = []
        for term, definition in pairs:
            label = plain(self.lines[term])
            if shapes.is_code_line(label) or re.fullmatch(shapes.ICD10_CODE, label):
                rows.append(Row(term + 1, [self.passage(term + 1, term + 1), self.passage(definition + 1,
                                                                                          definition + 1)],
                                f"{self.lines[term].strip()}\t{self.lines[definition].strip()}"))
                continue
            self.flush(rows)
            self.add(Block("field", self.passage(term + 1, definition + 1), label=label,
                           value=self.passage(definition + 1, definition + 1)))
        self.flush(rows)
        return pairs[-1][1] + 1

    def check_rows(self, rows: list[Row]) -> bool:
        """A known label over rows of a name and a check mark or its absence ('Line of business | Applies' over
        'Commercial | Yes', 'Medicaid | No, see ...'): a field of the names marked. True when the rows were read so."""
        if len(rows) < 3 or len(rows[0].cells) != 2 or not self.labels.is_label(rows[0].cells[0].clean.rstrip(":")) \
                or any(len(r.cells) != 2 for r in rows[1:]):
            return False
        marks = [_mark(r.cells[1].clean) for r in rows[1:]]
        if None in marks or not any(marks):
            return False
        names = [(r.line, r.cells[0].raw) for r, marked in zip(rows[1:], marks) if marked]
        self.add(Block("field", self.passage(rows[0].line, rows[-1].line), label=rows[0].cells[0].clean.rstrip(":"),
                       value=Passage(self.file, names)))
        return True

    def dated_rows(self, rows: list[Row]):
        """In a table that stays a table (a revision table: 'Date Revised | 01/08/2025 | Added ...'), a row headed by
        a date label, or a cell that is a dated field ('Original Date: 03/01/2022'), is also a field."""
        for r in rows:
            cells = [c for c in r.cells if c]
            if len(cells) >= 2 and self.is_date_label(cells[0].clean) and any(shapes.find_dates(cells[1].clean)):
                label = cells[0].clean.rstrip(":").strip()
                self.add(Block("field", Passage(self.file, [(r.line, f"{label}: {cells[1].raw}")]), label=label,
                               value=cells[1]))
                continue
            for c in cells:
                for label, value, rest in self.labels.split_fields(c.clean):
                    if not rest and self.is_date_label(label) and any(shapes.find_dates(value)):
                        self.add_field(r.line, label, value, "")

    def is_date_label(self, text: str) -> bool:
        return any(role.endswith("-date") for role, _ in self.labels.roles.get(normal(text.rstrip(":# ")), []))

    def labelled_header(self, rows: list[Row]) -> bool:
        return len(rows) >= 2 and len(rows[0].cells) >= 2 and \
            all(self.labels.is_label(c.clean.rstrip(":")) for c in rows[0].cells)

    def column_fields(self, rows: list[Row]) -> bool:
        """A header row of known labels over one row of values ('Policy Number | Effective Date' over
        'MG.MM.SU.41 | 05/01/2025'): each column a field. Over several rows, the table stays a table and each
        column also gives a field listing its cells ('Line of Business' over 'Commercial', 'Medicare'). True when
        the rows were read as fields only."""
        if not self.labelled_header(rows) or any(len(r.cells) != len(rows[0].cells) for r in rows[1:]):
            return False
        for k, label in enumerate(rows[0].cells):
            name = label.clean.rstrip(":").strip()
            values = [r.cells[k] for r in rows[1:] if r.cells[k]]
            if values:
                value = Passage(self.file, [(v.line, v.raw) for v in values])
                self.add(Block("field", Passage(self.file, [(values[0].line, f"{name}: {value.raw}")]), label=name,
                               value=value))
        return len(rows) == 2

    def flush(self, data: list[Row]):
        if data:
            self.item_indents = []
            self.add(Block("table", self.passage(data[0].line, data[-1].line), rows=list(data)))
            self.prose_cells(data)
            data.clear()

    def prose_cells(self, rows: list[Row]):
        """A cell that says something in sentences (a policy-update table: 'Cryoablation of breast cancer (CPT
        0581T) is not covered.') is also a paragraph of its own, after the table, so the positions it takes are
        read as any paragraph's."""
        for r in rows:
            for cell in r.cells:
                if shapes.is_prose(cell.clean):
                    start = len(self.blocks)
                    self.add_paragraph(cell)
                    for b in self.blocks[start:]:
                        b.cell = True

    def is_key_table(self, rows: list[Row]) -> bool:
        return bool(rows) and all(len([c for c in r.cells if c]) <= 2 for r in rows) and \
            sum(self.is_key(r) for r in rows) >= 0.6 * len(rows)

    def is_key(self, row: Row) -> bool:
        cells = [c for c in row.cells if c]
        if not cells:
            return False
        key = cells[0].clean.rstrip(":").strip()
        return len(cells) == 2 and (self.labels.is_label(key) or (
            cells[0].clean.endswith(":") and len(key.split()) <= 5) or (
            len(key.split()) <= 3 and not any(ch.isdigit() for ch in key) and key[:1].isupper()
            and not shapes.is_code_line(cells[1].clean.split(" ")[0])))

    def single_cell(self, number: int, cell: Passage):
        fields = self.labels.split_fields(cell.clean)
        if fields:
            for label, value, rest in fields:
                self.add_field(number, label, value, rest)
        elif _is_heading(cell.clean, ""):
            self.add(Block("heading", cell))
        else:
            self.add_paragraph(cell)


def _mark(text: str) -> bool | None:
    """True for a check mark ('X', 'Yes'), False for its absence ('No', 'No, see ...', '-'), None for anything else."""
    first = (text.split() or [""])[0].strip(".,;:").lower()
    return True if first in _CHECK_MARKS else False if first in ("no", "n", "-", "–", "") else None


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
