"""A passage of a document: its raw text (lines joined, white space collapsed), a clean text for matching (emphasis
markup, link syntax and stray glyphs removed, dashes and quotes made plain) and the map between the two, so a match
in the clean text is quoted verbatim from the raw text, with its line range."""

import re
from bisect import bisect_right

from fhir_ire.facts import Source

# Characters read as another: dashes, quotes and spaces publishers and PDF extraction vary.
_PLAIN = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
                        "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
                        "\u2009": " ", "\u202f": " ", "\u00ad": None, "\u200b": None, "\ufeff": None})
# Markup that never carries words: bold/italic markers, heading hashes, a block quote's '>', link targets.
_MARKUP = re.compile(r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\w)|(?<=\w)_(?![\w_])"
                     r"|\]\([^)]*\)|(?<!\S)\[(?=[^\]]*\]\()|^#{1,6}\s+|^>\s*|`")
_SPACE = re.compile(r"\s+")


def plain(text: str) -> str:
    """Text with emphasis and link markup removed and dashes, quotes and spaces made plain (no mapping kept)."""
    return _SPACE.sub(" ", _MARKUP.sub("", text.translate(_PLAIN))).strip()


class Passage:
    """Lines [(number, text)] as one text. .clean is what readers match; source(start, end) quotes .raw."""

    def __init__(self, file: str, lines: list[tuple[int, str]]):
        self.file = file
        raw_parts, self._starts, self._numbers, pos = [], [], [], 0
        for number, text in lines:
            text = _SPACE.sub(" ", text).strip()
            if not text:
                continue
            self._starts.append(pos)
            self._numbers.append(number)
            raw_parts.append(text)
            pos += len(text) + 1
        self.raw = " ".join(raw_parts)
        self.clean, self._index = _clean(self.raw)

    @property
    def line(self) -> int:
        return self._numbers[0] if self._numbers else 0

    @property
    def end_line(self) -> int:
        return self._numbers[-1] if self._numbers else 0

    def __bool__(self) -> bool:
        return bool(self.clean)

    def __repr__(self) -> str:
        return f"Passage({self.line}-{self.end_line}: {self.clean[:60]!r})"

    def line_at(self, raw_offset: int) -> int:
        if not self._numbers:
            return 0
        return self._numbers[max(0, bisect_right(self._starts, raw_offset) - 1)]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw offsets of the clean span [start, end)."""
        if not self.clean:
            return 0, 0
        start = min(max(0, start), len(self.clean) - 1)
        end = min(max(start + 1, end), len(self.clean))
        return self._index[start], self._index[end - 1] + 1

    def part(self, start: int, end: int) -> "Passage":
        """The passage of the clean span [start, end), with its own lines."""
        a, b = self.raw_span(start, end)
        lines = []
        for k, begin in enumerate(self._starts):
            stop = self._starts[k + 1] - 1 if k + 1 < len(self._starts) else len(self.raw)
            lo, hi = max(a, begin), min(b, stop)
            if lo < hi:
                lines.append((self._numbers[k], self.raw[lo:hi]))
        return Passage(self.file, lines)

    def source(self, start: int = 0, end: int | None = None) -> Source:
        """The Source of the clean span [start, end): the raw text it covers and its lines."""
        end = len(self.clean) if end is None else end
        while start < end and self.clean[start] == " ":
            start += 1
        while end > start and self.clean[end - 1] == " ":
            end -= 1
        a, b = self.raw_span(start, end)
        a, b = _balanced(self.raw, a, b)
        return Source(self.file, self.line_at(a), self.line_at(max(a, b - 1)), self.raw[a:b])


def _balanced(raw: str, a: int, b: int) -> tuple[int, int]:
    """The span widened over the emphasis marks that open or close inside it ('**Prior authorization is not
    required** for ...' quoted with its opening '**')."""
    for mark in ("**", "__"):
        if raw[a:b].count(mark) % 2:
            if raw[max(0, a - len(mark)):a] == mark:
                a -= len(mark)
            elif raw[b:b + len(mark)] == mark:
                b += len(mark)
    return a, b


_SPECIAL = re.compile(r"^>|[*_#\[\]`\u00a0\u00ad\u200b\u2009\u2010-\u2015\u2018\u2019\u201c\u201d\u202f\u2212\ufeff]")


def _clean(raw: str) -> tuple[str, list[int]]:
    """(clean text, clean offset -> raw offset). Markup is dropped, characters are translated one for one, and runs
    of white space left by the removals become one space."""
    if not _SPECIAL.search(raw):  # most text has no markup: the clean text is the raw text
        return raw, range(len(raw))
    keep = [True] * len(raw)
    for m in _MARKUP.finditer(raw):
        if m.group(0).startswith("]("):
            for i in range(m.start(), m.end()):
                keep[i] = False
        else:
            for i in range(m.start(), m.end()):
                if raw[i] in "*_#[`] " or m.group(0).startswith(("#", ">")):
                    keep[i] = False
    out, index = [], []
    for i, ch in enumerate(raw):
        if not keep[i]:
            continue
        ch = ch.translate(_PLAIN)
        if not ch:
            continue
        if ch.isspace():
            if not out or out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
        index.append(i)
    while out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


_ABBREVIATIONS = ("e.g", "i.e", "eg", "ie", "etc", "vs", "no", "dr", "inc", "co", "corp", "u.s", "approx", "fig", "st",
                  "mr", "ms", "jr", "sr", "vol", "al", "est", "ltd")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9•])|[.!?][\"')\]]*$")
_RUN_IN_HEADING = re.compile(r"^(?:[A-Z][A-Z/&\-]{2,}\s+)+(?=[A-Z][a-z])")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of a clean text. A full stop after a known abbreviation ('e.g.', 'Inc.')
    or a single initial does not end a sentence; a run-in heading in capitals ('POLICY For adults ...') is left out
    of the sentence after it."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        word = re.search(r"([\w.]+)$", text[start:m.start()])
        if m.group(0).startswith(".") and word and (word.group(1).lower().rstrip(".") in _ABBREVIATIONS
                                           or re.fullmatch(r"[A-Z]", word.group(1))):
            continue
        spans.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a] == " ":
            a += 1
        if head := _RUN_IN_HEADING.match(text[a:b]):
            a += head.end()
        if a < b:
            out.append((a, b))
    return out
