"""Tables in the layout model: pipe tables (with or without the leading '|', a cell broken over lines), tab- and
space-aligned rows, definition lists; read as tables, or as the fields they are (key-value rows, a header of labels
over values, a label over rows of names and check marks), with the paragraphs their cells say. A mix-in of the
layout's reader (fhir_ire/sources/layout.py), which owns the lines and the blocks."""

import re

from fhir_ire.sources import shapes
from fhir_ire.sources.blocks import CHECK_MARKS, SEPARATOR, Block, Row, cells_of, is_heading, mark
from fhir_ire.sources.labels import normal
from fhir_ire.sources.text import Passage, plain


class TableReading:
    def check_table(self, i: int) -> tuple[int, list[tuple[int, str]]] | None:
        """(line after it, [(line, name)] of the rows marked) of a table of names with a check mark or none
        ('Commercial<tab>X', 'CHIP', 'Medicaid | X') starting at line index i; None when the lines are no such table."""
        rows, j = [], i
        while j < len(self.lines) and self.lines[j].strip():
            cells = [c.strip() for c in re.split(r"\t+|\|", self.lines[j].strip()) if c.strip()]
            if not cells or len(cells) > 2 or len(cells[0].split()) > 4 or cells[0].endswith((".", ":")) \
                    or (len(cells) == 2 and cells[1].lower() not in CHECK_MARKS):
                break
            rows.append((j + 1, cells))
            j += 1
        if len(rows) < 2 or not any(len(c) == 2 for _, c in rows):
            return None
        return j, [(n, c[0]) for n, c in rows if len(c) == 2]

    def table(self, i: int) -> int:
        rows, j, header = [], i, False
        while j < len(self.lines):
            line = self.lines[j]
            closed = rows and self.lines[rows[-1].line - 1].rstrip().endswith("|")
            if rows and not closed and line.strip() and not line.lstrip().startswith("|") \
                    and self.lines[rows[0].line - 1].rstrip().endswith("|") and not SEPARATOR.match(line.strip()):
                last = rows[-1]  # a cell broken over lines: its rest, and the row's other cells, on the next line
                more = cells_of(line)
                last.cells[-1] = Passage(self.file, [(last.line, last.cells[-1].raw), (j + 1, more[0])])
                last.cells += [Passage(self.file, [(j + 1, c)]) for c in more[1:]]
                last.raw = f"{last.raw} {line.strip()}"
                j += 1
                continue
            if "|" not in line:
                break
            if rows and j + 1 < len(self.lines) and SEPARATOR.match(self.lines[j + 1].strip()) \
                    and not SEPARATOR.match(line.strip()):
                break  # this line is the header of the next table
            if SEPARATOR.match(line.strip()):
                header = header or len(rows) == 1
            else:
                rows.append(Row(j + 1, [Passage(self.file, [(j + 1, c)]) for c in cells_of(line)], line))
            j += 1
        if header and self.column_fields(rows):
            return j
        if header and not self.is_key_table(rows[1:]):
            self.item_indents = []
            self.add(Block("table", self.passage(rows[0].line, rows[-1].line), rows=rows, header=True))
            self.dated_rows(rows[1:])
            self.prosecells_of(rows[1:])
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
        marks = [mark(r.cells[1].clean) for r in rows[1:]]
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
            self.prosecells_of(data)
            data.clear()

    def prosecells_of(self, rows: list[Row]):
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
        elif is_heading(cell.clean, ""):
            self.add(Block("heading", cell))
        else:
            self.add_paragraph(cell)
