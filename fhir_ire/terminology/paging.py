"""Pages of large code systems without walking them: whole-system and is-a value sets, with or without a text
filter, answered from the word index (positions in code system order), concepts built for the page only. Also
`search`, the plain text search the pages' search box calls."""

from fhir_ire.terminology.compose import filter_op
from fhir_ire.terminology.textindex import has_words, query_words, code_prefix


def simple_include(vs: dict) -> dict | None:
    """The include of a value set that is one code system, whole or an is-a / descendent-of subtree, and nothing
    else (no listed concepts, imports, excludes or other filters)."""
    compose = vs.get("compose") or {}
    includes = compose.get("include") or []
    if len(includes) != 1 or compose.get("exclude") or compose.get("inactive") is False or compose.get("extension"):
        return None
    inc = includes[0]
    if not inc.get("system") or inc.get("concept") or inc.get("valueSet"):
        return None
    filters = inc.get("filter") or []
    if len(filters) > 1 or any(f.get("property") not in ("concept", "code") or
                               filter_op(f) not in ("is-a", "descendent-of") for f in filters):
        return None
    return inc


def positions(cs, inc: dict, text: str | None, offset: int, count: int | None) -> tuple[int, list[int]] | None:
    """(how many of the include's concepts match text, the positions of the page), in code system order; None
    when cs has no word index."""
    index = cs.text_index
    if index is None:
        return None
    stop = len(index) if count is None else min(len(index), offset + count)
    filters = inc.get("filter") or []
    if not filters:
        return index.page(text, offset, count) if text else (len(index), list(range(offset, stop)))
    root = filters[0].get("value")
    codes = cs.descendants(root) + ([root] if filter_op(filters[0]) == "is-a" else [])
    subtree = {index.ordinals[c] for c in codes if c in index.ordinals}
    found = sorted(subtree) if not text else [i for i in index.search(text) if i in subtree]
    return len(found), found[offset: offset + count if count is not None else None]


def concepts_at(cs, chosen: list[int]) -> list:
    """The concepts at these positions (built now, and only these)."""
    return [c for c in (cs.get(cs.text_index.codes[i]) for i in chosen) if c is not None]


def search(registry, system: str, text: str, limit: int = 20) -> dict:
    """Concepts of a loaded code system whose display has every word of text (or whose code starts with it):
    {"total": n, "concepts": [{"code", "display"}, ...]} with at most limit concepts, in code system order."""
    cs = registry.scope().codesystem(system)
    if cs is None:
        return {"total": 0, "concepts": []}
    if cs.text_index is not None:
        total, chosen = cs.text_index.page(text, 0, limit)
        concepts = concepts_at(cs, chosen)
    else:
        words, prefix = query_words(text), code_prefix(text)
        matching = [c for c in cs.concepts() if has_words(c.code, c.display, words, prefix)]
        concepts, total = matching[:limit], len(matching)
    return {"total": total, "concepts": [{"code": c.code, "display": c.display} for c in concepts]}
