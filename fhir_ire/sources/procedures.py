"""What procedure a text names, by the procedure vocabulary (fhir_ire/data/procedures.json): modalities, body sites,
approaches and classes of codes. The same reading serves positions, code descriptors, value sets and inference."""

import re
from dataclasses import dataclass
from functools import lru_cache

from fhir_ire.data import load


@dataclass(frozen=True)
class Procedure:
    modalities: frozenset = frozenset()
    sites: frozenset = frozenset()
    approaches: frozenset = frozenset()
    classes: frozenset = frozenset()

    def __bool__(self) -> bool:
        return bool(self.modalities or self.classes)

    def label(self) -> str:
        parts = [m.replace("-", " ") for m in sorted(self.modalities)] + sorted(self.classes)
        where = f" of {', '.join(sorted(self.sites))}" if self.sites else ""
        how = f" ({', '.join(sorted(self.approaches))})" if self.approaches else ""
        return " / ".join(parts) + where + how

    def with_sites(self, sites) -> "Procedure":
        return Procedure(self.modalities, self.sites | frozenset(sites), self.approaches, self.classes)


class Vocabulary:
    def __init__(self, data: dict):
        self.modalities = [(m["id"], m["title"], _matcher(m)) for m in data["modalities"]]
        # a family's words start a word, never after a hyphen ('non-thermal ablation' names no thermal modality)
        self.families = [(frozenset(f["modalities"]), _Matcher({"patterns": []}, family=f["patterns"]))
                         for f in data.get("families", {}).get("entries", [])]
        self.sites = [(s["id"], _matcher(s, word_start=True)) for s in data["sites"]]
        self.approaches = [(a["id"], _matcher(a)) for a in data["approaches"]]
        self.classes = [(cid, _matcher(c)) for cid, c in data["classes"].items() if cid != "about"]
        self.referring = re.compile("|".join(rf"\b{re.escape(p)}\b" for p in data["referring"]["patterns"]), re.I)
        self.lesions = [(kind, re.compile("|".join(rf"(?<![A-Za-z]){re.escape(p)}" for p in data["lesions"][kind]),
                                          re.I)) for kind in ("benign", "malignant")]

    def describe(self, text: str) -> Procedure:
        family = frozenset().union(*(ids for ids, m in self.families if m(text)))
        return Procedure(frozenset(i for i, _, m in self.modalities if m(text)) | family,
                         frozenset(i for i, m in self.sites if m(text)),
                         frozenset(i for i, m in self.approaches if m(text)),
                         frozenset(i for i, m in self.classes if m(text)))

    def modality_spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, modality id) of each modality mention, in text order."""
        spans = []
        for mid, _, m in self.modalities:
            spans += [(a, b, mid) for a, b in m.spans(text)]
        for ids, m in self.families:
            spans += [(a, b, mid) for a, b in m.spans(text) for mid in sorted(ids)]
        return sorted(spans)

    def phrase(self, text: str) -> str:
        """The procedure as the text names it: its modality words, and the sites it names ('RFA; liver')."""
        modality = [text[a:b] for a, b, _ in self.modality_spans(text)]
        modality += [text[a:b] for _, m in self.classes for a, b in m.spans(text)]
        sites = sorted({(a, text[a:b]) for _, m in self.sites for a, b in m.spans(text)})
        words = list(dict.fromkeys(w.strip() for w in modality))
        where = list(dict.fromkeys(w for _, w in sites))
        return ", ".join(words) + (f"; {', '.join(where)}" if where else "")

    def lesions_of(self, text: str) -> frozenset:
        """'benign', 'malignant', both or neither: the kind of lesion the text is about."""
        return frozenset(kind for kind, rx in self.lesions if rx.search(text))

    def refers_back(self, text: str) -> bool:
        return bool(self.referring.search(text))


class _Matcher:
    def __init__(self, entry: dict, word_start: bool = False, family: list[str] = ()):
        # a site word starts a word ('cutaneous' is not in 'percutaneous', 'renal' not in 'adrenal'); a pattern may
        # still end inside one ('pancrea' for 'pancreas', 'pancreatic')
        start = r"(?<![A-Za-z])" if word_start else ""
        words = [start + re.escape(p) if p[:1].isalpha() else re.escape(p) for p in entry.get("patterns", [])]
        words += [rf"(?<![\w-]){re.escape(p)}" for p in family]
        self.patterns = re.compile("|".join(words), re.I) if words else None
        abbreviations = [rf"(?<![\w-]){re.escape(a)}(?![\w-])" for a in entry.get("abbreviations", [])]
        self.abbreviations = re.compile("|".join(abbreviations)) if abbreviations else None

    def __call__(self, text: str) -> bool:
        return bool((self.patterns and self.patterns.search(text))
                    or (self.abbreviations and self.abbreviations.search(text)))

    def spans(self, text: str):
        for rx in (self.patterns, self.abbreviations):
            if rx:
                yield from ((m.start(), m.end()) for m in rx.finditer(text))


def _matcher(entry: dict, word_start: bool = False) -> _Matcher:
    return _Matcher(entry, word_start)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary(load("procedures.json"))


@lru_cache(maxsize=65536)
def describe(text: str) -> Procedure:
    """The procedure a text names (computed once per text: the same descriptors recur across documents)."""
    return vocabulary().describe(text)


@lru_cache(maxsize=1)
def _meanings() -> dict:
    return load("code-meanings.json")["codes"]


def meaning(code: str, descriptor: str = "") -> str:
    """A code's descriptor as the document gives it, else what the code is about in plain words
    (data/code-meanings.json), so a code listed alone still names its site and modality."""
    return descriptor or _meanings().get(code, "")
