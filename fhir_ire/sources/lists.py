"""List items in the layout model: markers (numbered, lettered, roman, bullets of any glyph, the private-use glyphs PDF
extraction writes, a marker in emphasis), each item's nesting level by its indent and, in lists not indented, by its
numbering style; a numbered caption over a paragraph is a section heading, not an item. A mix-in of the layout's
reader (fhir_ire/sources/layout.py)."""

import re

from fhir_ire.sources.blocks import Block
from fhir_ire.sources.text import Passage, plain

BULLETS = "-*•▪●◦○■□➢►▸‣⁃∙·–—◆◇❖➤→✓✔"
# PDF extraction writes Symbol/Wingdings bullets as private-use characters (U+F0B7, U+F0A7, U+F0D8 ...)
_GLYPHS = re.escape(BULLETS) + "\ue000-\uf8ff"
# a marker may be set in emphasis ('**A.** Text')
MARKER = re.compile(r"^(?:\*\*|__)?(?P<marker>[" + _GLYPHS + r"]|o(?=\s+[A-Z])|\(?\d{1,2}[.)]|\(\d{1,2}\)"
                    r"|\(?[a-z][.)](?=\s)|\([a-z]\)|\(?(?:[ivx]{1,4}|[IVX]{1,4})[.)](?=\s|\*\*|__)"
                    r"|\(?[A-Z][.)](?=\s|\*\*|__)|\([A-Z]\))(?:\*\*|__)?\s+(?=\S)")
LONE_MARKER = re.compile(r"^[" + _GLYPHS + r"]$")


def style_of(marker: str) -> str:
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


def indent_of(line: str) -> int:
    head = line[: len(line) - len(line.lstrip())]
    return head.count("\t") * 4 + len(head.replace("\t", ""))


class ListReading:
    def level(self, indent: int, marker: str = "") -> int:
        """The nesting level of an item: by its indent, and at one indent by its numbering style (an item in a style
        already open at that indent returns to that level; a new style opens a level below)."""
        stack = self.item_indents
        while stack and stack[-1][0] > indent:
            stack.pop()
        style = style_of(marker)
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
        indent = indent_of(line)
        start_col = len(line) - len(line.lstrip()) + m.end()
        parts = [(i + 1, line[start_col:])]
        j = i + 1
        while j < len(self.lines):  # wrapped lines: indented past the marker, or starting lower-case
            nxt = self.lines[j]
            if not nxt.strip() or MARKER.match(nxt.lstrip()) or "|" in nxt:
                break
            if not (indent_of(nxt) > indent or plain(nxt)[:1].islower()) or self.labels.field_at_start(plain(nxt)):
                break
            parts.append((j + 1, nxt))
            j += 1
        first = Passage(self.file, parts[:1])
        if style_of(m.group("marker")) == "number" and self.is_caption(i, first.clean) and i + 1 < len(self.lines) \
                and not MARKER.match(self.lines[i + 1].lstrip()):
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
