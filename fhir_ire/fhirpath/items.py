"""`where` and `exists` criteria read straight off one item, for the shapes rules write (`system = 'S' and code in
('A' | 'B')`, `code.substring(0, 3) in (...)`, `$this in (...)`, `status.empty()`): no collection is built per
item. A test answers True, False, None (the empty collection) or GENERAL when the item is not plainly shaped (not
an object, a value that is not one string, a primitive extension `_code` beside it): the general closures then
evaluate that item, so every answer and every error stays fhirpathpy's (tests/fhirpath/ is the oracle)."""

from fhir_ire.fhirpath.steps import GENERAL, member_step


def _strings(node) -> frozenset | None:
    """The strings of a literal or a literal collection (`'a' | 'b'`), None when it is anything else."""
    if node[0] == "literal" and isinstance(node[1], str):
        return frozenset((node[1],))
    if node[0] == "binary" and node[1] == "|":
        left, right = _strings(node[2]), _strings(node[3])
        return left | right if left is not None and right is not None else None
    return None


def _member(name: str):
    """The one string value of item.name, None when absent (or empty), GENERAL for anything else."""
    extension = "_" + name

    def value(item):
        if type(item) is not dict or extension in item:
            return GENERAL
        v = item.get(name)
        if v is None or type(v) is str:
            return v
        return None if v == [] else GENERAL
    return value


def _this(item):
    return item if type(item) is str else GENERAL


def _substring(of, start: int, length: int | None):
    def value(item):
        text = of(item)
        if text is None or text is GENERAL:
            return text
        if start >= len(text):
            return None
        return text[start:] if length is None else text[start:start + length]
    return value


def _value(node):
    """A value read from the item: $this, a member, a member's substring with literal bounds; None otherwise."""
    if node == ("this",):
        return _this
    if node[0] == "member":
        return _member(node[1])
    if node[0] == "path" and node[1][0] == "member" and len(node[2]) == 1 and node[2][0][:2] == ("call", "substring"):
        args = node[2][0][2]
        bounds = [a[1] for a in args if a[0] == "literal" and type(a[1]) is int]
        if len(bounds) == len(args) and 1 <= len(args) <= 2 and bounds[0] >= 0:
            return _substring(_member(node[1][1]), bounds[0], bounds[1] if len(bounds) == 2 else None)
    return None


def _compare(value, literal: str, negate: bool):
    def test(item):
        v = value(item)
        if v is None or v is GENERAL:
            return v
        return (v == literal) != negate
    return test


def _within(value, members: frozenset):
    def test(item):
        v = value(item)
        if v is None or v is GENERAL:
            return v
        return v in members
    return test


def _presence(name: str, exists: bool):
    extension = "_" + name

    def test(item):
        if type(item) is not dict or extension in item:
            return GENERAL
        v = item.get(name)
        return (v is not None and v != []) == exists
    return test


def _logic(left, right, is_and: bool):
    decisive, other = (False, True) if is_and else (True, False)

    def test(item):
        a = left(item)
        if a is GENERAL:
            return GENERAL
        b = right(item)
        if b is GENERAL:
            return GENERAL
        if a is decisive or b is decisive:
            return decisive
        return other if a is other and b is other else None
    return test


def _field(node) -> tuple[str, frozenset] | None:
    """`member = 'x'` or `member in ('x' | 'y')`: (member, the strings it may be)."""
    if node[0] == "binary" and node[1] in ("=", "in") and node[2][0] == "member":
        members = _strings(node[3]) if node[1] == "in" else (
            frozenset((node[3][1],)) if node[3][0] == "literal" and type(node[3][1]) is str else None)
        return (node[2][1], members) if members else None
    return None


def _conjuncts(node) -> list:
    if node[0] == "binary" and node[1] == "and":
        return _conjuncts(node[2]) + _conjuncts(node[3])
    return [node]


def _fields(fields: list[tuple[str, frozenset]]):
    """A conjunction of `member = 'x'` / `member in (...)` tests (`system = 'S' and code in ('A' | 'B')`) in one
    closure: every member's value is read (and its shape checked) before the answer, as fhirpathpy evaluates every
    operand."""
    names = [(name, "_" + name, members) for name, members in fields]

    def test(item):
        if type(item) is not dict:
            return GENERAL
        answer = True
        for name, extension, members in names:
            if extension in item:
                return GENERAL
            v = item.get(name)
            if type(v) is str:
                if answer is not False and v not in members:
                    answer = False
            elif v is None or v == []:
                answer = None if answer is True else answer
            else:
                return GENERAL
        return answer
    if len(names) != 2:
        return test
    (a, a_ext, a_in), (b, b_ext, b_in) = names

    def test_pair(item):  # the commonest criterion, `system = 'S' and code in (...)`, without the loop
        if type(item) is not dict or a_ext in item or b_ext in item:
            return GENERAL
        x, y = item.get(a), item.get(b)
        if type(x) is str and type(y) is str:  # a coding as codings are
            return x in a_in and y in b_in
        if type(x) is not str and (x is not None and x != []):
            return GENERAL
        if type(y) is not str and (y is not None and y != []):
            return GENERAL
        if (type(x) is str and x not in a_in) or (type(y) is str and y not in b_in):
            return False
        return True if type(x) is str and type(y) is str else None
    return test_pair


def _nested(names: list[str], inner, negate: bool):
    """`a.b.where(criterion).exists()` (or `.empty()`, `a.b.exists(criterion)`) inside a criterion: the members read
    as the general closures read them, the criterion off each of their items; an item it leaves to the general
    closures leaves this whole item to them."""
    steps = [member_step(name) for name in names]

    def test(item):
        if type(item) is not dict:
            return GENERAL
        values = [item]
        for step in steps:
            values = step(values, None)
        hit = False
        for value in values:
            kept = inner(value)
            if kept is GENERAL:
                return GENERAL
            if kept is True:
                hit = True
        return hit != negate
    return test


def _nested_test(node):
    """_nested for a path of members ending in where(c).exists() / where(c).empty() / exists(c), else None."""
    if node[0] != "path" or node[1][0] != "member" or len(node[2]) < 1:
        return None
    steps, names = list(node[2]), [node[1][1]]
    while steps and steps[0][0] == "member":
        names.append(steps.pop(0)[1])
    if len(steps) == 2 and steps[0][:2] == ("call", "where") and len(steps[0][2]) == 1 and steps[1][0] == "call" \
            and steps[1][1] in ("exists", "empty") and not steps[1][2]:
        criterion, negate = steps[0][2][0], steps[1][1] == "empty"
    elif len(steps) == 1 and steps[0][:2] == ("call", "exists") and len(steps[0][2]) == 1:
        criterion, negate = steps[0][2][0], False
    else:
        return None
    inner = item_test(criterion)
    return _nested(names, inner, negate) if inner else None


def item_test(node):
    """test(item) for a criterion node of the shapes above, else None (the general closures only)."""
    fields = [_field(n) for n in _conjuncts(node)]
    if all(fields):
        return _fields(fields)
    if (nested := _nested_test(node)) is not None:
        return nested
    if node[0] == "binary" and node[1] in ("and", "or"):
        left, right = item_test(node[2]), item_test(node[3])
        return _logic(left, right, node[1] == "and") if left and right else None
    if node[0] == "binary" and node[1] in ("=", "!=") and node[3][0] == "literal" and type(node[3][1]) is str:
        value = _value(node[2])
        return _compare(value, node[3][1], node[1] == "!=") if value else None
    if node[0] == "binary" and node[1] == "in":
        value, members = _value(node[2]), _strings(node[3])
        return _within(value, members) if value and members else None
    if node[0] == "path" and node[1][0] == "member" and len(node[2]) == 1 and node[2][0][0] == "call" \
            and node[2][0][1] in ("exists", "empty") and not node[2][0][2]:
        return _presence(node[1][1], node[2][0][1] == "exists")
    return None
