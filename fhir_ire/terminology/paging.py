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


def positions(cs, inc: dict, text: str | None) -> list[int] | None:
    """Positions of the include's concepts that match text, in code system order; None when cs has no index."""
    index = cs.text_index
    if index is None:
        return None
    found = index.search(text) if text else None
    for f in inc.get("filter") or []:
        root = f.get("value")
        codes = cs.descendants(root) + ([root] if filter_op(f) == "is-a" else [])
        subtree = {index.ordinals[c] for c in codes if c in index.ordinals}
        found = sorted(subtree) if found is None else [i for i in found if i in subtree]
    return list(range(len(index))) if found is None else found


def page(cs, found: list[int], offset: int, count: int | None) -> list:
    """The concepts at found[offset:offset+count] (built now, and only these)."""
    chosen = found[offset: offset + count if count is not None else None]
    return [c for c in (cs.get(cs.text_index.codes[i]) for i in chosen) if c is not None]


def search(registry, system: str, text: str, limit: int = 20) -> dict:
    """Concepts of a loaded code system whose display has every word of text (or whose code starts with it):
    {"total": n, "concepts": [{"code", "display"}, ...]} with at most limit concepts, in code system order."""
    cs = registry.scope().codesystem(system)
    if cs is None:
        return {"total": 0, "concepts": []}
    if cs.text_index is not None:
        found = cs.text_index.search(text)
        concepts = page(cs, found, 0, limit)
        total = len(found)
    else:
        words, prefix = query_words(text), code_prefix(text)
        matching = [c for c in cs.concepts() if has_words(c.code, c.display, words, prefix)]
        concepts, total = matching[:limit], len(matching)
    return {"total": total, "concepts": [{"code": c.code, "display": c.display} for c in concepts]}
