"""Text a PDF was turned into with its layout kept (`pdftotext -layout`): columns aligned with runs of spaces, the
lines a wrapped cell continues on, and the running headers and footers every page repeats. The layout model reads
aligned columns as table rows (so fields, code tables and payment tables read as they do with tabs or pipes) and
leaves page furniture out of the flow (so a list or a paragraph broken by a page boundary stays whole)."""

import re
from collections import Counter

from fhir_ire.sources.blocks import Row
from fhir_ire.sources.directory import directory
from fhir_ire.sources.text import Passage

# two columns: three spaces or more between two pieces of text on a line (a sentence never has them)
_GAP = re.compile(r"\S {3,}\S")
# a cell: words one or two spaces apart, but a label's colon followed by two spaces ends it ('Effective:  01/01/2018')
_CELL = re.compile(r"\S+(?:(?<!:) {1,2}\S+|(?<=:) \S+)*")
_PAGE = re.compile(r"\f|\bPage:?\s*\d+\s+of\s+\d+\b", re.I)


def _norm(line: str) -> str:
    return " ".join(line.replace("\f", " ").split())


def page_furniture(lines: list[str]) -> set[int]:
    """Indexes of the lines that are page furniture: a 'Page N of M' line, and a line repeated in the document that
    stands within two lines of a page break (a form feed or a 'Page N of M' line): the running header or footer."""
    breaks = [i for i, line in enumerate(lines) if _PAGE.search(line)]
    if not breaks:
        return set()
    counts = Counter(_norm(line) for line in lines if line.strip())
    out = {i for i in breaks if _PAGE.search(lines[i].replace("\f", ""))}
    for b in breaks:
        for i in range(max(0, b - 2), min(len(lines), b + 3)):
            if lines[i].strip() and counts[_norm(lines[i])] >= 2:
                out.add(i)
    return out


def has_columns(line: str) -> bool:
    text = line.replace("\f", "").strip()
    return "|" not in text and "\t" not in text and bool(_GAP.search(text))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def aligned_rows(file: str, lines: list[str], i: int, skip: set[int]):
    """(rows, index after them) of the aligned table starting at line index i: at least two lines with columns, and
    the lines a wrapped cell continues on (more indented than the row, no columns of their own: their text joins the
    cell whose column they start under). None when line i opens no such table."""
    found: list[tuple[int, str, list[list[tuple[int, str]]]]] = []  # (line, raw, parts of each cell)
    starts: list[int] = []
    columns: list[int] = []  # where the first row's cells start
    j = i
    while j < len(lines):
        line = lines[j].replace("\f", " ")
        if j in skip:
            j += 1
            continue
        if has_columns(line):
            cells = [(m.start(), m.group(0)) for m in _CELL.finditer(line)]
            starts = [a for a, _ in cells]
            columns = columns if found else starts
            found.append((j + 1, lines[j], _aligned([[(j + 1, c)] for _, c in cells], starts, columns)))
        elif found and line.strip() and _indent(line) > starts[0] + 1 and len(found[-1][2]) > 1:
            number, raw, parts = found[-1]
            at = columns if len(parts) == len(columns) else starts
            col = max(k for k, a in enumerate(at) if a <= _indent(line) + 1)
            parts[col].append((j + 1, line.strip()))
            found[-1] = (number, f"{raw} {line.strip()}", parts)
        else:
            break
        j += 1
    if len(found) < 2:
        return None
    return [Row(n, [Passage(file, cell) for cell in parts], raw) for n, raw, parts in found], j


def _aligned(parts: list, starts: list[int], columns: list[int]) -> list:
    """A row's cells under the columns of the first row ('           Cryo    47383' has no first cell: its cells
    stand under the second and third columns), with empty cells where the row has none."""
    if len(parts) >= len(columns):
        return parts
    at = [max((k for k, a in enumerate(columns) if a <= start + 2), default=0) for start in starts]
    if len(set(at)) < len(at):
        return parts  # not aligned with the first row: keep the cells as they are
    out: list = [[] for _ in columns]
    for k, cell in zip(at, parts):
        out[k] = cell
    return out


_RULE = re.compile(r"^\s*(?:[=_~*-]\s*){3,}$")


def rules(lines: list[str]) -> set[int]:
    """Indexes of the lines that are only a rule drawn with characters ('=====', '-----  -----', '***'): a setext
    heading's underline, a table's header rule, a page divider. They carry no text."""
    return {i for i, line in enumerate(lines) if "|" not in line and _RULE.match(line)}


_TERM_END = (".", ",", ";", ":", "!", "?")
_CODE_TERM = re.compile(r"\d{4}[0-9FT]|[A-V]\d{4}|[A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?")


def is_term(text: str) -> bool:
    return 1 <= len(text.split()) <= 5 and len(text) <= 40 and text[:1].isalnum() and not text.endswith(_TERM_END) \
        and "\t" not in text and "|" not in text and not _GAP.search(text)


def _is_definition(text: str) -> bool:
    return bool(text) and (text[:1].isalnum() or text[:1] in "($") and not text.endswith((".", ":")) \
        and "\t" not in text and "|" not in text and not _GAP.search(text)


def definition_pairs(lines: list[str], i: int) -> list[tuple[int, int]]:
    """(term line, definition line) indexes of a definition list starting at line index i: an HTML <dl> turned to text,
    each term on a line, its definition on the next, a blank line after ('Long descriptor' / 'Ablation, ...' / '' /
    'Status' / 'Active' / ''). Three pairs in a row at least; a term is short, a definition is not a sentence."""
    pairs, k = [], i
    while k + 1 < len(lines):
        term, definition = lines[k].strip(), lines[k + 1].strip()
        after = lines[k + 2].strip() if k + 2 < len(lines) else ""
        # pairs may follow each other with no blank line when the term is a code or a payer the directory knows
        # ('19105' / 'Ablation, ...', 'Aetna' / 'Experimental and investigational')
        close = _CODE_TERM.fullmatch(term) or directory().lookup(term) is not None
        if (after and not close) or not (is_term(term) and _is_definition(definition)):
            break
        pairs.append((k, k + 1))
        k += 2
        while k < len(lines) and not lines[k].strip():
            k += 1
    return pairs if len(pairs) >= 3 else []

