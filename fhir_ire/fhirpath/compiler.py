"""FHIRPath AST -> Python closures, for the subset coverage rules use: member access, %variables, $this, literals,
literal collections (`|`), `=` `!=` `in` `contains` `and` `or` `xor` `implies`, `where` `exists` `empty` `not`
`count` `first` `startsWith` `substring`. The closures mirror fhirpathpy's semantics (the oracle): every operand is
evaluated, cardinality and type errors raise. Anything else raises FhirPathUnsupported at compile time."""

from fhir_ire.errors import FhirPathError, FhirPathUnsupported as Unsupported

DEFAULT_VARIABLES = {"context", "ucum", "resource", "rootResource"}  # fhirpathpy supplies these itself
LOGIC = {"and", "or", "xor", "implies"}
MACROS = {"where", "exists", "select", "all", "repeat", "aggregate"}


class Compiled:
    """fn(focus, env) -> list; kind "bool" when the value is computed true/false, "data" otherwise;
    const: the value when it depends on nothing."""

    __slots__ = ("fn", "kind", "const")

    def __init__(self, fn, kind="data", const=None):
        self.fn, self.kind, self.const = fn, kind, const


def constant(values: list) -> Compiled:
    return Compiled(lambda focus, env: values, "data", values)


def compile_node(node, this_ok: bool = False) -> Compiled:
    tag = node[0]
    if tag == "literal":
        value = [node[1]]
        return Compiled(lambda focus, env: value, "bool" if isinstance(node[1], bool) else "data", value)
    if tag == "empty":
        return constant([])
    if tag == "var":
        return _variable(node[1])
    if tag == "this":
        if not this_ok:
            raise Unsupported("$this outside a where/exists criterion without nested criteria")
        return Compiled(lambda focus, env: focus)
    if tag == "member":
        return Compiled(_member_step(node[1]))
    if tag == "call":
        step = _call_step(node[1], node[2], this_ok)
        return Compiled(step.fn, step.kind)
    if tag == "path":
        return _path(node, this_ok)
    if tag == "binary":
        return _binary(node[1], compile_node(node[2], this_ok), compile_node(node[3], this_ok))
    raise Unsupported(f"{tag} expressions")


def _variable(name: str) -> Compiled:
    if name in DEFAULT_VARIABLES:
        raise Unsupported(f"%{name}")

    def fn(focus, env):
        try:
            value = env[name]
        except KeyError:
            raise FhirPathError(f"undefined environment variable %{name}") from None
        if value is None:
            return []
        return value if isinstance(value, list) else [value]
    return Compiled(fn)


def _member_step(name: str):
    if name[:1] == name[:1].upper():  # fhirpathpy reads such a name (also `_x`) as a type filter
        raise Unsupported(f"type name {name} as a path step")
    keys = (name, "_" + name)  # primitive extensions: fhirpathpy returns them beside the value

    def fn(items, env):
        out = []
        for item in items:
            if isinstance(item, dict):
                for key in keys:
                    value = item.get(key)
                    if value is None or value == []:
                        continue
                    if isinstance(value, list):
                        out.extend(value)
                    else:
                        out.append(value)
            elif name == "length":
                out.append(len(item))
        return out
    return fn


def _path(node, this_ok: bool) -> Compiled:
    _, head, steps = node
    first = compile_node(head, this_ok)
    fns, kind = [first.fn], first.kind
    for step in steps:
        if step[0] == "member":
            fns.append(_member_step(step[1]))
            kind = "data"
        else:
            compiled = _call_step(step[1], step[2], this_ok)
            fns.append(compiled.fn)
            kind = compiled.kind
    if len(fns) == 2:
        a, b = fns
        return Compiled(lambda focus, env: b(a(focus, env), env), kind)

    def fn(focus, env):
        value = focus
        for f in fns:
            value = f(value, env)
        return value
    return Compiled(fn, kind)


def _has_macro(node) -> bool:
    if not isinstance(node, tuple):
        return isinstance(node, list) and any(_has_macro(n) for n in node)
    if node[0] == "call" and node[1] in MACROS and node[2]:
        return True
    return any(_has_macro(n) for n in node[1:] if isinstance(n, (tuple, list)))


def _criterion(arg) -> Compiled:
    crit = compile_node(arg, this_ok=not _has_macro(arg))
    if crit.kind != "bool":
        raise Unsupported("a criterion that is not a comparison, logic or existence test")
    return crit


def _select(crit_fn):
    def where(items, env):
        out = []
        for item in items:
            result = crit_fn(item if isinstance(item, list) else [item], env)
            if result and result[0]:
                if isinstance(item, list):
                    out.extend(item)
                else:
                    out.append(item)
        return out
    return where


def _const_args(name: str, args: list, kinds: tuple) -> list:
    values = []
    for arg, kind in zip(args, kinds):
        value = compile_node(arg).const
        if value is None:
            raise Unsupported(f"{name}() with an argument that is not a literal")
        if len(value) > 1:
            raise Unsupported(f"{name}() with a collection argument")
        if value and not isinstance(value[0], kind):
            raise Unsupported(f"{name}() with an argument of the wrong type")
        values.append(value[0] if value else None)
    return values


def _single_string(items, name: str) -> str:
    if len(items) != 1 or not isinstance(items[0], str):
        raise FhirPathError(f"{name}() expects one string, got {len(items)} item(s)")
    return items[0]


def _call_step(name: str, args: list, this_ok: bool) -> Compiled:
    """A function applied to the collection before it (or to the focus at the start of an expression)."""
    n = len(args)
    if name == "where" and n == 1:
        return Compiled(_select(_criterion(args[0]).fn))
    if name == "exists" and n in (0, 1):
        if n == 0:
            return Compiled(lambda items, env: [len(items) > 0], "bool")
        where = _select(_criterion(args[0]).fn)
        return Compiled(lambda items, env: [len(where(items, env)) > 0], "bool")
    if name == "empty" and n == 0:
        return Compiled(lambda items, env: [len(items) == 0], "bool")
    if name == "first" and n == 0:
        return Compiled(lambda items, env: items[:1])
    if name == "count" and n == 0:
        return Compiled(lambda items, env: [len(items)])
    if name == "not" and n == 0:
        return Compiled(lambda items, env: [] if len(items) != 1 else
                        [not items[0]] if isinstance(items[0], bool) else [False], "bool")
    if name == "startsWith" and n == 1:
        (prefix,) = _const_args(name, args, (str,))

        def starts_with(items, env):
            if not items or prefix is None:
                return []
            text = _single_string(items, name)
            return [bool(text) and text.startswith(prefix)]
        return Compiled(starts_with, "bool")
    if name == "substring" and n in (1, 2):
        start, length = (_const_args(name, args, (int, int)) + [None])[:2]
        if isinstance(start, bool) or isinstance(length, bool):
            raise Unsupported("substring() with a boolean argument")

        def substring(items, env):
            if not items:
                return []
            text = _single_string(items, name)
            if start is None or start < 0 or start >= len(text):
                return []
            return [text[start:] if length is None else text[start:start + length]]
        return Compiled(substring)
    raise Unsupported(f"function {name}() with {n} argument(s)")


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

    def fn(focus, env):
        a, b = lf(focus, env), rf(focus, env)
        a = (a[0] if len(a) == 1 and (a[0] is True or a[0] is False) else _boolean(a)) if a else None
        b = (b[0] if len(b) == 1 and (b[0] is True or b[0] is False) else _boolean(b)) if b else None
        if a is decisive or b is decisive:
            return [decisive]
        return [other] if a is other and b is other else []
    return fn


def _equal(lf, right: Compiled, negate: bool):
    rf = right.fn
    if right.const is not None and len(right.const) == 1:  # `x = 'literal'`, the usual comparison
        value = right.const[0]

        def equal_literal(focus, env):
            a = lf(focus, env)
            if not a:
                return []
            return [(len(a) == 1 and a[0] == value) != negate]
        return equal_literal

    def equal(focus, env):
        a, b = lf(focus, env), rf(focus, env)
        if not a or not b:
            return []
        return [(len(a) == len(b) and a[0] == b[0]) != negate]
    return equal


def _binary(op: str, left: Compiled, right: Compiled) -> Compiled:
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
        return [contains(b, a[0])]
    return membership
