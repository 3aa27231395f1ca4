"""Codes set out around a coverage position: in its sentence, in the code lines or the code table right after it and
its criteria, in the code table a lead-in stands over ('The following procedure codes remain noncovered services.')
or a sentence refers back to ('Both codes continue to require prior authorization')."""

import re

from fhir_ire.sources import shapes
from fhir_ire.sources.blocks import Block, Layout

CODE = re.compile(rf"(?<![\w$.,/-]){shapes.PROCEDURE_CODE}(?![\w%/-]|\.\d)")
# a lead-in that heads a list of codes ('The following CPT codes are considered investigational ...:')
CODE_LEAD = re.compile(r"(?i)the\s+following\b[^.]*\bcodes?\b")
# words that refer back to the codes listed above
CODES_REF = re.compile(r"\b(?:both|these|those|all\s+(?:of\s+)?(?:the|these))\s+(?:\w+\s+)?codes\b|\bcodes\s+"
                       r"(?:above|listed\s+above)\b", re.I)


def codes_in(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0) for m in CODE.finditer(text)))


def codes_after(layout: Layout, found: list):
    """Codes set out right after a position and its criteria (a code column under each position)."""
    blocks = layout.blocks
    for i, pos in enumerate(found):
        j = max([pos.block] + [blocks.index(c) for c in pos.criteria]) + 1
        stop = found[i + 1].block if i + 1 < len(found) else len(blocks)
        while j < stop and (blocks[j].kind in ("paragraph", "table") and _is_code_block(blocks[j])):
            pos.codes += [c for c in codes_in(blocks[j].clean) if c not in pos.codes]
            j += 1


def _is_code_block(b: Block) -> bool:
    if b.kind == "table":
        return bool(code_rows([b], 0))
    return shapes.is_code_line(b.clean)


def codes_before(blocks: list[Block], k: int) -> list[tuple[str, str]]:
    """(code, descriptor) of the code table nearest before block k."""
    return next((rows for j in range(k - 1, -1, -1) if (rows := code_rows(blocks, j))), [])


def code_rows(blocks: list[Block], k: int) -> list[tuple[str, str]]:
    """(code, descriptor) of each row of a code table at block k, under its header row if it has one; [] when the
    block is no code table."""
    if k >= len(blocks) or blocks[k].kind != "table":
        return []
    rows = [r for r in blocks[k].rows if r.cells and r.cells[0]]
    if rows and not CODE.fullmatch(rows[0].cells[0].clean.strip()):
        rows = rows[1:]  # the header row
    if not rows or not all(CODE.fullmatch(r.cells[0].clean.strip()) for r in rows):
        return []
    return [(r.cells[0].clean.strip(), r.cells[1].clean if len(r.cells) > 1 else "") for r in rows]
