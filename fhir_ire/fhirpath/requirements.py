"""What an expression needs to be true, read from its syntax: the codings a variable must contain
(`%orderCodes.where(system = 'S' and code in ('A' | 'B')).exists()`) or the value a variable must equal
(`%payerId = 'p'`). The hook engine indexes rule actions by these, so that it never looks at an action whose
code is not ordered. None means "cannot tell": the caller then indexes more broadly, never less."""

from itertools import product


def _conjuncts(node) -> list:
    if node[0] == "binary" and node[1] == "and":
        return _conjuncts(node[2]) + _conjuncts(node[3])
    return [node]


def _literals(node) -> set | None:
    """The strings of a literal or a literal collection (`'a' | 'b'`)."""
    if node[0] == "literal" and isinstance(node[1], str):
        return {node[1]}
    if node[0] == "binary" and node[1] == "|":
        left, right = _literals(node[2]), _literals(node[3])
        return left | right if left is not None and right is not None else None
    return None


def _field_values(node) -> tuple[str, set] | None:
    """`field = 'x'`, `field in ('x' | 'y')`, or an `or` of those on one field: (field, allowed values)."""
    if node[0] != "binary":
        return None
    op, left, right = node[1], node[2], node[3]
    if op in ("=", "in") and left[0] == "member":
        values = _literals(right) if op == "in" else ({right[1]} if right[0] == "literal"
                                                       and isinstance(right[1], str) else None)
        return (left[1], values) if values is not None else None
    if op == "or":
        a, b = _field_values(left), _field_values(right)
        if a and b and a[0] == b[0]:
            return a[0], a[1] | b[1]
    return None


def _criterion_codings(crit) -> set | None:
    fields: dict[str, set] = {}
    for part in _conjuncts(crit):
        if (fv := _field_values(part)) is not None:
            fields[fv[0]] = fields[fv[0]] & fv[1] if fv[0] in fields else fv[1]
    if "system" not in fields or "code" not in fields:
        return None
    return set(product(fields["system"], fields["code"]))


def _coding_test(node, var: str) -> set | None:
    """`%var.where(crit).exists()` or `%var.exists(crit)`: the (system, code) pairs crit admits."""
    if node[0] != "path" or node[1] != ("var", var):
        return None
    steps = node[2]
    if len(steps) == 2 and steps[0][:2] == ("call", "where") and steps[1] == ("call", "exists", []) \
            and len(steps[0][2]) == 1:
        return _criterion_codings(steps[0][2][0])
    if len(steps) == 1 and steps[0][:2] == ("call", "exists") and len(steps[0][2]) == 1:
        return _criterion_codings(steps[0][2][0])
    return None


def required_codings(node, var: str) -> set | None:
    """(system, code) pairs one of which %var must contain for node to be true; None when that cannot be read."""
    if node[0] == "binary" and node[1] == "and":
        sides = [s for s in (required_codings(node[2], var), required_codings(node[3], var)) if s is not None]
        return min(sides, key=len) if sides else None
    if node[0] == "binary" and node[1] == "or":
        left, right = required_codings(node[2], var), required_codings(node[3], var)
        return left | right if left is not None and right is not None else None
    return _coding_test(node, var)


def required_value(node, var: str) -> str | None:
    """The string %var must equal for node to be true (a conjunct `%var = 'x'`), else None."""
    for part in _conjuncts(node):
        if part[0] == "binary" and part[1] == "=":
            left, right = part[2], part[3]
            if right == ("var", var):
                left, right = right, left
            if left == ("var", var) and right[0] == "literal" and isinstance(right[1], str):
                return right[1]
    return None
