"""Path steps over a collection for the compiled closures: member access (`.name`), and `where` / `exists` over a
criterion read off each item (fhirpath/items.py), with the general closures for an item that test leaves to them."""

from fhir_ire.errors import FhirPathUnsupported as Unsupported
from fhir_ire.fhirpath.operators import FALSE, TRUE

GENERAL = object()  # an item test's answer: this item needs the general closures


def member_step(name: str):
    """`.name` on a collection: each item's value and its primitive extension `_name`, lists flattened."""
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


def matches(test, general):
    """The items the criterion keeps (`where`); general(item, env) -> what an item the test leaves to it adds."""
    def where(items, env):
        out = []
        for item in items:
            kept = test(item)
            if kept is GENERAL:
                out.extend(general(item, env))
            elif kept is True:
                out.append(item)
        return out
    return where


def any_match(test, general, negate: bool = False):
    """[whether the criterion keeps an item] (`where(...).exists()`, `exists(...)`; the opposite for `empty()` when
    negate); every item is still tested, as fhirpathpy does, so that an item the general closures fail on fails
    the expression."""
    def found(items, env):
        hit = False
        for item in items:
            kept = test(item)
            if kept is GENERAL:
                kept = len(general(item, env)) > 0
            if kept is True:
                hit = True
        return TRUE if hit != negate else FALSE
    return found
