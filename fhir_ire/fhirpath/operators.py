"""The compiled closures' values and operators: `=` `!=` `in` `contains` `and` `or` `xor` `implies` and literal
collections (`|`), with fhirpathpy's semantics (every operand evaluated, cardinality and type errors raised)."""

from fhir_ire.errors import FhirPathError, FhirPathUnsupported as Unsupported

LOGIC = {"and", "or", "xor", "implies"}
# the commonest answers, one list each: no closure changes a collection it is given or has returned, so a caller
# may test `result is TRUE` before looking closer (crd/hooks.py)
TRUE, FALSE = [True], [False]


class Compiled:
    """fn(focus, env) -> list; kind "bool" when the value is computed true/false, "data" otherwise;
    const: the value when it depends on nothing."""

    __slots__ = ("fn", "kind", "const")

    def __init__(self, fn, kind="data", const=None):
        self.fn, self.kind, self.const = fn, kind, const


def constant(values: list) -> Compiled:
    return Compiled(lambda focus, env: values, "data", values)


def _boolean(items) -> bool | None:
    if not items:
        return None
    if len(items) > 1 or not isinstance(items[0], bool):
        raise FhirPathError("a logical operator expects a single boolean")
    return items[0]


def _logic(op: str, a, b):
    """fhirpathpy's three-valued logic, None standing for the empty collection."""
    if op == "and":
        if a is False or b is False:
            return [False]
        return [True] if a is True and b is True else []
    if op == "or":
        if a is True or b is True:
            return [True]
        return [False] if a is False and b is False else []
    if op == "xor":
        return [] if a is None or b is None else [a != b]
    if a is False:  # implies
        return [True]
    if a is None:
        return [True] if b is True else []
    return [b] if b is not None else []


def _and_or(lf, rf, is_and: bool):
    """`and` / `or` (the commonest operators) in one closure each, _boolean's checks inline: the operand that
    decides (false for `and`, true for `or`) wins, two of the other give the other, anything else is empty."""
    decisive, other = (False, True) if is_and else (True, False)
    answer_decisive, answer_other = (FALSE, TRUE) if is_and else (TRUE, FALSE)

    def fn(focus, env):
        a, b = lf(focus, env), rf(focus, env)
        a = (a[0] if len(a) == 1 and (a[0] is True or a[0] is False) else _boolean(a)) if a else None
        b = (b[0] if len(b) == 1 and (b[0] is True or b[0] is False) else _boolean(b)) if b else None
        if a is decisive or b is decisive:
            return answer_decisive
        return answer_other if a is other and b is other else []
    return fn


def _equal(lf, right: Compiled, negate: bool):
    rf = right.fn
    if right.const is not None and len(right.const) == 1:  # `x = 'literal'`, the usual comparison
        value = right.const[0]

        def equal_literal(focus, env):
            a = lf(focus, env)
            if not a:
                return []
            return TRUE if (len(a) == 1 and a[0] == value) != negate else FALSE
        return equal_literal

    def equal(focus, env):
        a, b = lf(focus, env), rf(focus, env)
        if not a or not b:
            return []
        return [(len(a) == len(b) and a[0] == b[0]) != negate]
    return equal


def _membership(element, collection: Compiled):
    """`x in collection`: a literal collection of strings is a frozenset lookup, whatever its size."""
    if collection.const is not None and all(isinstance(v, str) for v in collection.const):
        members = frozenset(collection.const)
        cf = collection.fn

        def contains(b, x):
            return isinstance(x, str) and x in members
    else:
        cf = collection.fn

        def contains(b, x):
            return any(y == x for y in b)

    def membership(focus, env):
        a, b = element(focus, env), cf(focus, env)
        if not a:
            return []
        if not b:
            return [False]
        if len(a) > 1:
            raise FhirPathError("`in` expects a single element on its left")
        return TRUE if contains(b, a[0]) else FALSE
    return membership


def binary(op: str, left: Compiled, right: Compiled) -> Compiled:
    lf, rf = left.fn, right.fn
    if op in ("and", "or"):
        return Compiled(_and_or(lf, rf, op == "and"), "bool")
    if op in LOGIC:
        return Compiled(lambda focus, env: _logic(op, _boolean(lf(focus, env)), _boolean(rf(focus, env))), "bool")
    if op in ("=", "!="):
        return Compiled(_equal(lf, right, op == "!="), "bool")
    if op in ("in", "contains"):
        element, collection = (lf, right) if op == "in" else (rf, left)
        return Compiled(_membership(element, collection), "bool")
    if op == "|" and left.const is not None and right.const is not None:
        values = []
        for v in left.const + right.const:
            if not any(type(v) is type(w) and v == w for w in values):
                values.append(v)
        return constant(values)
    raise Unsupported(f"operator {op}")
