"""FHIRPath AST -> Python closures, for the subset coverage rules use: member access, %variables, $this, literals,
literal collections (`|`), `=` `!=` `in` `contains` `and` `or` `xor` `implies` (operators.py), `where` `exists`
`empty` `not` `count` `first` `startsWith` `substring`. The closures mirror fhirpathpy's semantics (the oracle): every
operand is evaluated, cardinality and type errors raise. Anything else raises FhirPathUnsupported at compile time."""

from fhir_ire.errors import FhirPathError, FhirPathUnsupported as Unsupported
from fhir_ire.fhirpath.items import item_test
from fhir_ire.fhirpath.steps import any_match, matches, member_step
from fhir_ire.fhirpath.operators import Compiled, binary, constant

DEFAULT_VARIABLES = {"context", "ucum", "resource", "rootResource"}  # fhirpathpy supplies these itself
MACROS = {"where", "exists", "select", "all", "repeat", "aggregate"}


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
        return Compiled(member_step(node[1]))
    if tag == "call":
        step = _call_step(node[1], node[2], this_ok)
        return Compiled(step.fn, step.kind)
    if tag == "path":
        return _path(node, this_ok)
    if tag == "binary":
        return binary(node[1], compile_node(node[2], this_ok), compile_node(node[3], this_ok))
    raise Unsupported(f"{tag} expressions")


def _variable(name: str, then=None) -> Compiled:
    """%name as a collection; then(collection, env): the one step after it, in the same closure."""
    if name in DEFAULT_VARIABLES:
        raise Unsupported(f"%{name}")

    def fn(focus, env):
        try:
            value = env[name]
        except KeyError:
            raise FhirPathError(f"undefined environment variable %{name}") from None
        value = [] if value is None else value if isinstance(value, list) else [value]
        return value if then is None else then(value, env)
    return Compiled(fn)


def _path(node, this_ok: bool) -> Compiled:
    _, head, steps = node
    first = compile_node(head, this_ok)
    fns, kind = [first.fn], first.kind
    steps = list(steps)
    while steps:
        step = steps.pop(0)
        if step[0] == "member":
            fns.append(member_step(step[1]))
            kind = "data"
        elif step[1] == "where" and len(step[2]) == 1 and steps and steps[0][0] == "call" \
                and steps[0][1] in ("exists", "empty") and not steps[0][2] and item_test(step[2][0]):
            fns.append(_exists(step[2][0], steps.pop(0)[1] == "empty"))  # one pass, no list of the kept items
            kind = "bool"
        else:
            compiled = _call_step(step[1], step[2], this_ok)
            fns.append(compiled.fn)
            kind = compiled.kind
    if len(fns) == 2 and head[0] == "var":  # `%var.step`, the commonest path: one closure
        return Compiled(_variable(head[1], fns[1]).fn, kind)
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


def _kept(crit_fn):
    """What one item adds to `where`'s answer when the criterion keeps it (a nested list adds its items)."""
    def kept(item, env):
        result = crit_fn(item if isinstance(item, list) else [item], env)
        return (item if isinstance(item, list) else [item]) if result and result[0] else ()
    return kept


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


def _where(arg):
    """`where(criterion)`: read off each item (items.py) when the criterion has a shape it knows."""
    crit = _criterion(arg)
    test = item_test(arg)
    return matches(test, _kept(crit.fn)) if test else _select(crit.fn)


def _exists(arg, negate: bool = False):
    """`exists(criterion)`, `where(criterion).exists()` (or `.empty()` when negate) in one pass over the items."""
    crit = _criterion(arg)
    test = item_test(arg)
    if test:
        return any_match(test, _kept(crit.fn), negate)
    where = _select(crit.fn)
    return lambda items, env: [(len(where(items, env)) > 0) != negate]


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
        return Compiled(_where(args[0]))
    if name == "exists" and n in (0, 1):
        if n == 0:
            return Compiled(lambda items, env: [len(items) > 0], "bool")
        return Compiled(_exists(args[0]), "bool")
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
