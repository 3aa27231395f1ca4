"""ICD-10-CM, the release the simple-icd-10-cm package carries: existence, billability, official titles, hierarchy.

Answered from a table derived once from the package's data and cached on disk (`icd10cm_cache.py`), loaded on first
use: importing this module costs nothing, and the package itself is imported only to (re)build the cache."""

import re
from functools import lru_cache

from fhir_ire.codesets import icd10cm_cache
from fhir_ire.uris import ICD10CM

SYSTEM = ICD10CM


class Table:
    """Categories and subcategories in classification order. Each code's descendants are the codes right after
    it, up to its end, so the hierarchy needs no per-code lists."""

    def __init__(self, data: dict):
        self.codes: list[str] = data["codes"]
        self.displays: list[str] = data["displays"]
        self.parents: list[int] = data["parents"]
        self.ends: list[int] = data["ends"]
        self.inclusion: dict[str, list[str]] = data["inclusion"]
        self.position = {code: i for i, code in enumerate(self.codes)}

    def find(self, code) -> int | None:
        """The position of a code written with or without its dot (C25.0 or C250), as the package accepts it."""
        if not isinstance(code, str):
            return None
        i = self.position.get(code)
        if i is None and len(code) >= 4 and code[3] != ".":
            i = self.position.get(code[:3] + "." + code[3:])
        return i

    def children(self, i: int):
        j = i + 1
        while j < self.ends[i]:
            yield j
            j = self.ends[j]


@lru_cache(maxsize=1)
def table() -> Table:
    return Table(icd10cm_cache.load())


@lru_cache(maxsize=1)
def version() -> str:
    """The release the package carries, read from its data file name (e.g. '2026')."""
    for f in sorted((icd10cm_cache.package_dir() / "data").glob("icd10c-tabular-*.xml")):
        m = re.search(r"(\d{4})\.xml$", f.name)
        if m:
            return m.group(1)
    return "unknown"


def is_code(code: str) -> bool:
    """A category or (sub)category code; chapters and blocks are not codes."""
    return table().find(code) is not None


def is_billable(code: str) -> bool:
    t = table()
    i = t.find(code)
    return i is not None and t.ends[i] == i + 1


def display(code: str) -> str | None:
    t = table()
    i = t.find(code)
    return None if i is None else t.displays[i]


def parent(code: str) -> str | None:
    """Parent code, or None at category level (chapters and blocks are not codes)."""
    t = table()
    i = t.find(code)
    return None if i is None or t.parents[i] < 0 else t.codes[t.parents[i]]


def children(code: str) -> list[str]:
    t = table()
    i = t.find(code)
    return [] if i is None else [t.codes[j] for j in t.children(i)]


def descendants(code: str) -> list[str]:
    t = table()
    i = t.find(code)
    return [] if i is None else t.codes[i + 1:t.ends[i]]


def is_ancestor(a: str, b: str) -> bool:
    """True when a (written with its dot) is a proper ancestor of b."""
    t = table()
    i, j = t.position.get(a) if isinstance(a, str) else None, t.find(b)
    return i is not None and j is not None and i < j < t.ends[i]


def inclusion_terms(code: str) -> list[str]:
    t = table()
    i = t.find(code)
    return [] if i is None else list(t.inclusion.get(t.codes[i], ()))


@lru_cache(maxsize=1)
def all_codes() -> tuple[str, ...]:
    return tuple(table().codes)


def titles():
    """(code, official title) of every category and subcategory, in classification order."""
    t = table()
    return zip(t.codes, t.displays)
