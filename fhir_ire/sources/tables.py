"""Loose markdown tables: rows with or without leading pipes, tables cut off at the end of a document."""

import re
from dataclasses import dataclass, field

from fhir_ire.errors import BuildError

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}")


@dataclass
class Table:
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    cut_off: bool = False

    @property
    def last_line(self) -> int:
        return self.rows[-1][0] if self.rows else self.header_line + 1

    def column(self, *words: str) -> int | None:
        """Index of the first header cell containing any of the words (case-insensitive)."""
        for i, cell in enumerate(self.header):
            if any(w in cell.lower() for w in words):
                return i
        return None


def split_cells(line: str) -> list[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|"):
        text = text[:-1]
    return [c.strip() for c in text.split("|")]


def _is_separator(line: str) -> bool:
    return bool(_SEPARATOR.match(line)) and set(line.strip()) <= set("|-: ")


def read_tables(lines: list[str], file: str) -> list[Table]:
    """Every table in the lines (1-based line numbers). A row with fewer cells than its header raises BuildError."""
    ends_with_newline = bool(lines) and lines[-1] == ""
    tables, i, n = [], 0, len(lines)
    while i < n:
        if "|" in lines[i] and i + 1 < n and _is_separator(lines[i + 1]):
            header = split_cells(lines[i])
            table = Table(header=header, header_line=i + 1)
            j = i + 2
            while j < n and "|" in lines[j] and not _is_separator(lines[j]):
                if j + 1 < n and _is_separator(lines[j + 1]):
                    break  # this line is the header of the next table
                cells = split_cells(lines[j])
                if len(cells) < len(header):
                    raise BuildError(f"truncated table row: {len(cells)} of {len(header)} cells "
                                     f"({' | '.join(header)})", file, j + 1)
                if len(cells) > len(header):
                    cells = cells[: len(header) - 1] + [" | ".join(cells[len(header) - 1:])]
                table.rows.append((j + 1, cells))
                j += 1
            rest = [ln for ln in lines[j:] if ln.strip()]
            table.cut_off = not rest and (not table.rows or not ends_with_newline)
            tables.append(table)
            i = j
        else:
            i += 1
    return tables
