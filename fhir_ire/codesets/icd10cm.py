"""ICD-10-CM from the simple-icd-10-cm package: existence, billability, official titles, hierarchy."""

import re
from functools import lru_cache
from pathlib import Path

import simple_icd_10_cm as _icd

from fhir_ire.uris import ICD10CM

SYSTEM = ICD10CM


@lru_cache(maxsize=1)
def version() -> str:
    """The release the package carries, read from its data file name (e.g. '2026')."""
    data = Path(_icd.__file__).parent / "data"
    for f in sorted(data.glob("icd10c-tabular-*.xml")):
        m = re.search(r"(\d{4})\.xml$", f.name)
        if m:
            return m.group(1)
    return "unknown"


def is_code(code: str) -> bool:
    """A category or (sub)category code; chapters and blocks are not codes."""
    return _icd.is_valid_item(code) and _icd.is_category_or_subcategory(code)


def is_billable(code: str) -> bool:
    return is_code(code) and _icd.is_leaf(code)


def display(code: str) -> str | None:
    return _icd.get_description(code) if is_code(code) else None


def parent(code: str) -> str | None:
    """Parent code, or None at category level (chapters and blocks are not codes)."""
    if not is_code(code):
        return None
    p = _icd.get_parent(code)
    return p if p and is_code(p) else None


def children(code: str) -> list[str]:
    return [c for c in _icd.get_children(code) if is_code(c)] if is_code(code) else []


def descendants(code: str) -> list[str]:
    return [c for c in _icd.get_descendants(code) if is_code(c)] if is_code(code) else []


def is_ancestor(a: str, b: str) -> bool:
    """True when a is a proper ancestor of b."""
    return is_code(a) and is_code(b) and _icd.is_ancestor(a, b)


def inclusion_terms(code: str) -> list[str]:
    return list(_icd.get_inclusion_term(code)) if is_code(code) else []


@lru_cache(maxsize=1)
def all_codes() -> tuple[str, ...]:
    return tuple(c for c in _icd.get_all_codes(with_dots=True) if _icd.is_category_or_subcategory(c))


def titles():
    """(code, official title) of every category and subcategory, in classification order."""
    return ((code, _icd.get_description(code)) for code in all_codes())
