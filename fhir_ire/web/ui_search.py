"""The code explorer's search: an exact code, then the codes the documents name (found by their own words as well as
the code system's), then whole code systems (ICD-10-CM, NUCC, the other loaded ones) through the terminology word
index (`fhir_ire.terminology.paging.search`, SQLite FTS5): codes the documents never name, ranked by how closely
their display matches the words."""

import bisect
from dataclasses import dataclass

from fhir_ire.terminology import paging
from fhir_ire.terminology.textindex import WORD, code_prefix, query_words
from fhir_ire.uris import ICD10CM, NUCC, normalize_system

MAX_HITS = 50  # shown on the page over every code system
MAX_SYSTEM_HITS = 200  # shown when the search is limited to one code system
WINDOW = 200  # matches of one code system ranked per search (in code system order beyond it: see Search.partial)
MIN_LENGTH = 2  # a one-character text matches most of a large code system: only exact and documented codes


@dataclass(frozen=True)
class Hit:
    system: str
    code: str
    display: str
    documented: bool  # named by the documents (a code of our fragments, or a map target)


@dataclass
class Search:
    hits: list[Hit]
    totals: list[tuple[str, int]]  # (code system, how many of its codes match) for the whole-system search
    partial: set[str]  # code systems with more matches than WINDOW: only the first WINDOW were ranked


def rank(code: str, display: str, words: list[str], prefix: str | None) -> tuple:
    """How well a code answers the text: codes that begin with it (in code order), then displays whose first word
    the text begins, then displays with fewer words the text does not match (the closest, most general wording)."""
    if prefix and code.lower().startswith(prefix):
        return (0, 0, len(code), code)
    mine = WORD.findall(display.lower())
    unmatched = sum(1 for w in mine if not any(w.startswith(q) for q in words))
    leads = bool(mine and words and mine[0].startswith(words[0]))
    return (1, not leads, unmatched, "")


class DocumentWords:
    """A word index over the codes the documents name, with the documents' own wording: a code is found by the words
    a document used for it even where the code system's display differs."""

    def __init__(self, entries: dict[tuple[str, str], str]):
        self.entries = sorted(entries)
        self.documented = set(entries)
        self.words = sorted((w, i) for i, key in enumerate(self.entries) for w in set(WORD.findall(entries[key].lower())))

    def find(self, words: list[str]) -> list[tuple[str, str]]:
        """(system, code) of every entry with each word as a word prefix."""
        hits = None
        for w in words:
            lo = bisect.bisect_left(self.words, (w, -1))
            ids = set()
            while lo < len(self.words) and self.words[lo][0].startswith(w):
                ids.add(self.words[lo][1])
                lo += 1
            hits = ids if hits is None else hits & ids
        return [self.entries[i] for i in sorted(hits or ())]


def explored_systems(index) -> set[str]:
    """The code systems the explorer covers: those the bundles define or bind, and the full ICD-10-CM and NUCC when
    loaded (not the FHIR core code systems the server also holds)."""
    named = {normalize_system(cs.get("url")) for cs in index.all("CodeSystem")}
    named |= {normalize_system(inc.get("system")) for vs in index.all("ValueSet")
              for part in ("include", "exclude") for inc in (vs.get("compose") or {}).get(part) or []}
    return named | {ICD10CM, NUCC}


def search(finder, text: str, system: str | None = None) -> Search:
    """Codes for a search text, best first: the exact code, documented codes, then whole code systems; within each,
    by rank(), then code system, then code system order."""
    text = text.strip()
    system = normalize_system(system) if system else None
    words, prefix = query_words(text), code_prefix(text)
    wanted = [s for s in finder.systems if not system or s == system]
    order = {s: i for i, s in enumerate(finder.systems)}
    found: dict[tuple[str, str], tuple] = {}

    def add(key: tuple[str, str], display: str, position: int = 0) -> None:
        group = 1 if key in finder.documents.documented else 2
        found.setdefault(key, (group,) + rank(key[1], display, words, prefix) + (order.get(key[0], len(order)), position))

    for key in finder.find_code(text) if text else []:
        if not system or key[0] == system:
            found[key] = (0,)
    for key in finder.documents.find(words) if words else []:
        if not system or key[0] == system:
            add(key, finder.display(*key))
    totals, partial = [], set()
    if len(text) >= MIN_LENGTH:
        for url in wanted:
            answer = paging.search(finder.registry, url, text, WINDOW)
            if answer["total"]:
                totals.append((url, answer["total"]))
            if answer["total"] > WINDOW:
                partial.add(url)
            for n, concept in enumerate(answer["concepts"]):
                add((url, concept["code"]), concept.get("display") or "", n)
    best = sorted(found, key=found.get)[:MAX_SYSTEM_HITS if system else MAX_HITS]
    return Search([Hit(s, c, finder.display(s, c), (s, c) in finder.documents.documented) for s, c in best],
                  totals, partial)
