"""ValueSet.compose: which (code system, concept) pairs a value set holds, by listing or by membership test."""

from functools import lru_cache

import re2

from fhir_ire import budget
from fhir_ire.terminology.codesystems import CodeSystem, Concept
from fhir_ire.terminology.outcome import TxError

OP_EXT = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.compose.include.filter.op"
HIERARCHY_OPS = ("is-a", "descendent-of", "child-of", "descendent-leaf")


def filter_op(f: dict) -> str | None:
    if f.get("op"):
        return f["op"]
    return next((e.get("valueCode") for e in (f.get("_op") or {}).get("extension", []) if e.get("url") == OP_EXT), None)


def check_filters(include: dict, i: int, kind: str = "include") -> None:
    for j, f in enumerate(include.get("filter") or []):
        if f.get("value") in (None, "") and filter_op(f) != "exists":
            raise TxError(f"The system {include.get('system')} filter with property = {f.get('property')}, op = "
                          f"{filter_op(f)} has no value", status=400, code="invalid", tx_type="vs-invalid",
                          path=f"ValueSet.compose.{kind}[{i}].filter[{j}]",
                          message_id="UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE")


REGEX_OPTIONS = re2.Options()
REGEX_OPTIONS.log_errors = False


@lru_cache(maxsize=256)
def safe_regex(pattern: str):
    """Compile a filter regex with RE2, whose matching time is linear in the input: no pattern sent with a request
    can backtrack catastrophically (the tx tests send `(a+)+` on purpose). What RE2 cannot run (back-references,
    look-around) is a broken value set."""
    try:
        return re2.compile(pattern, options=REGEX_OPTIONS)
    except re2.error as e:
        detail = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise TxError(f"The regular expression '{pattern}' is not valid or not supported: {detail}",
                      tx_type="vs-invalid") from None


def _prop_values(concept: Concept, prop: str) -> list:
    if prop in ("code", "concept"):
        return [concept.code]
    if prop == "display":
        return [concept.display]
    if prop in ("inactive",):
        return [concept.inactive]
    vals = [next((v for k, v in p.items() if k.startswith("value")), None) for p in concept.properties
            if p.get("code") == prop]
    if prop == "status" and not vals and concept.status:
        vals = [concept.status]
    return vals


def _as_text(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def filter_matches(cs: CodeSystem, concept: Concept, f: dict) -> bool:
    op, prop, value = filter_op(f), f.get("property"), f.get("value")
    if prop == "concept" or (prop == "code" and op in HIERARCHY_OPS + ("is-not-a", "generalizes")):
        if op == "is-a":
            return cs.is_a(concept.code, value)
        if op == "descendent-of":
            return concept.code != value and cs.is_a(concept.code, value)
        if op == "child-of":
            return value in concept.parents
        if op == "descendent-leaf":
            return concept.code != value and cs.is_a(concept.code, value) and not concept.children
        if op == "is-not-a":
            return not cs.is_a(concept.code, value)
        if op == "generalizes":
            return cs.is_a(value, concept.code)
        if op == "=":
            return concept.code == value
        if op == "in":
            return concept.code in [v.strip() for v in value.split(",")]
        if op == "not-in":
            return concept.code not in [v.strip() for v in value.split(",")]
        if op == "regex":
            return safe_regex(value).fullmatch(concept.code) is not None
    values = [_as_text(v) for v in _prop_values(concept, prop) if v is not None]
    if op == "=":
        return value in values
    if op == "in":
        return bool(set(values) & {v.strip() for v in value.split(",")})
    if op == "not-in":
        return not set(values) & {v.strip() for v in value.split(",")}
    if op == "regex":
        return any(safe_regex(value).fullmatch(v) for v in values)
    if op == "exists":
        return bool(values) == (str(value).lower() != "false")
    raise TxError(f"The filter op '{op}' is not supported for property '{prop}'", code="not-supported",
                  tx_type="vs-invalid")


def include_has(cs: CodeSystem, include: dict, concept: Concept) -> bool:
    """Does this include (or exclude) clause select the concept? (system already matched)"""
    if include.get("concept"):
        return concept.code in {c.get("code") for c in include["concept"]}
    return all(filter_matches(cs, concept, f) for f in include.get("filter") or [])


def include_concepts(cs: CodeSystem, include: dict, spend=lambda n, what: None) -> list[Concept]:
    """The concepts an include clause lists, in code system order (listed order for enumerations). `spend` is told
    how many concepts will be examined before any is (the request's work limit)."""
    if include.get("concept"):
        spend(len(include["concept"]), f"the concepts listed for {cs.url}")
        out = []
        for c in include["concept"]:
            found = cs.find(c.get("code", ""))
            if found:
                out.append(found)
        return out
    filters = include.get("filter") or []
    start = next((f for f in filters if (f.get("property") in ("concept", "code"))
                  and filter_op(f) in ("is-a", "descendent-of")), None)
    if start is not None:
        root = cs.get(start.get("value"))
        codes = ([root.code] if root and filter_op(start) == "is-a" else []) + cs.descendants(start.get("value"))
        spend(len(codes), f"the descendants of {start.get('value')} in {cs.url}")
        pool = (cs.get(c) for c in codes)
    else:
        spend(cs.size, f"a filter over all of {cs.url}")
        pool = cs.concepts()
    return [c for c in _checked(pool) if c is not None and all(filter_matches(cs, c, f) for f in filters
                                                                if f is not start)]


def _checked(pool, every: int = 512):
    """The pool, checking the request's time budget as it goes (a long walk stops with 422, not after the client)."""
    for i, concept in enumerate(pool):
        if i % every == 0:
            budget.check("evaluating a value set")
        yield concept
