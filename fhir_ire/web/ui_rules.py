"""Rules in words: the determination an action carries (the CRD coverage-information codes), its verdict label, and
its FHIRPath conditions read back as sentences over the hook engine's documented variables (docs/rules.md)."""

import re

from fhir_ire.uris import EXT_DETERMINATION

# (label, tone): tone is the CSS class of the coloured cell.
NO_POLICY = ("No policy", "none")
PA_WORDS = {"auth-needed": "prior authorization required", "no-auth": "no prior authorization",
            "conditional": "prior authorization may be required"}
DOC_WORDS = {"clinical": "clinical documentation", "admin": "administrative documentation",
             "patient": "patient information", "conditional": "documentation may be needed"}
PURPOSE_WORDS = {"withpa": "with the prior authorization request", "withclaim": "with the claim",
                 "withorder": "with the order", "retain-doc": "kept on file"}

SUBJECTS = {
    "%payerId": "the patient's payer", "%orderCodes": "the ordered procedure", "%reasonCodes": "the order's diagnosis",
    "%linesOfBusiness": "the coverage's line of business", "%conditions": "a condition of the patient",
    "%draftCodes": "another order in the same request", "%draftOrders": "another order in the same request",
    "%coverage": "the coverage", "%hook": "the hook", "%order": "the order", "%payer": "the payer",
}
_VAR = re.compile(r"%[A-Za-z]+")
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")
_URL = re.compile(r"^[a-z]+:")
_MEMBER_OF = re.compile(r"memberOf\(\s*'([^']+)'")


def determination(action: dict) -> dict | None:
    """The coverage-determination extension of an action as {name: value or [values]}; None when it has none."""
    ext = next((e for e in action.get("extension") or [] if (e.get("url") or "").endswith(EXT_DETERMINATION)), None)
    if ext is None:
        return None
    det: dict = {"requirement": [], "doc-needed": [], "doc-purpose": [], "info-needed": []}
    for sub in ext.get("extension") or []:
        value = next((v for k, v in sub.items() if k.startswith("value")), None)
        if isinstance(det.get(sub.get("url")), list):
            det[sub["url"]].append(value)
        else:
            det[sub.get("url")] = value
    return det


def verdict(det: dict | None) -> tuple[str, str]:
    """The matrix label and tone of a determination."""
    if det is None:
        return NO_POLICY
    covered, pa = det.get("covered"), det.get("pa-needed")
    if covered == "not-covered":
        return "Not covered", "not-covered"
    if pa == "auth-needed":
        return "Prior authorization", "prior-auth"
    if covered == "covered":
        return "Covered", "covered"
    if covered == "conditional" and pa == "no-auth" and "withclaim" in det.get("doc-purpose", []):
        return "Conditional: documentation with the claim", "with-claim"
    if covered == "conditional":
        return "Covered with criteria", "criteria"
    return (covered or "indeterminate").replace("-", " ").capitalize(), "none"


def needs(det: dict) -> list[str]:
    """What the determination asks for, in words."""
    out = []
    if det.get("pa-needed"):
        out.append(PA_WORDS.get(det["pa-needed"], det["pa-needed"]).capitalize())
    for doc in det.get("doc-needed", []):
        purposes = " and ".join(PURPOSE_WORDS.get(p, p) for p in det.get("doc-purpose", []))
        out.append(f"{DOC_WORDS.get(doc, doc).capitalize()}" + (f", {purposes}" if purposes else ""))
    return out


def describe(expression: str, names: dict[str, dict[str, str]] | None = None) -> str:
    """A FHIRPath applicability condition in words. Conjunctions and disjunctions at the top level are split; each
    part names its subject (the engine variable), its test and the values it compares with. names maps a variable
    to the display of its values (payer ids to payer names, line-of-business codes to their displays)."""
    names = names or {}
    expr = _strip(expression.strip())
    for word in (" and ", " or "):
        parts = _split_top(expr, word)
        if len(parts) > 1:
            said = [describe(p, names) for p in parts]
            return "; ".join(said) if word == " and " else "either " + ", or ".join(said)
    var = _VAR.search(expr)
    subject = SUBJECTS.get(var.group(0), var.group(0).lstrip("%")) if var else "the request"
    shown_names = names.get(var.group(0), {}) if var else {}
    last = expr.rfind(".where(")
    scope = expr[last:_closing(expr, last + 6) + 1] if last >= 0 else expr
    sets = [names.get("ValueSet", {}).get(v, v) for v in _MEMBER_OF.findall(scope)]
    if sets:
        return f"{subject} has {'no' if expr.endswith('.empty()') else 'a'} code in {', '.join(sets)}"
    values = [shown_names.get(v, v) for v in _LITERAL.findall(scope) if not _URL.match(v)]
    shown = ", ".join(values)
    empty = expr.endswith(".empty()")
    if not values:
        return f"{subject} is not known" if empty else f"{subject} is known" if expr.endswith(".exists()") else expression
    if "startsWith" in scope or ".substring(0," in scope.replace(" ", ""):  # code families by prefix
        return f"{subject} has {'no' if empty else 'a'} code starting with {shown}"
    if empty:
        return f"{subject} is none of {shown}"
    return f"{subject} is {shown}" if len(values) == 1 else f"{subject} is one of {shown}"


def _strip(expr: str) -> str:
    """Drop parentheses that wrap the whole expression."""
    while expr.startswith("(") and expr.endswith(")") and _closing(expr, 0) == len(expr) - 1:
        expr = expr[1:-1].strip()
    return expr


def _scan(expr: str, start: int = 0):
    """(index, character, depth) of the characters outside quoted strings; depth counts open parentheses."""
    depth, quoted = 0, False
    for i in range(start, len(expr)):
        ch = expr[i]
        if ch == "'" and (i == 0 or expr[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth


def _closing(expr: str, start: int) -> int:
    """The index of the parenthesis closing the one at start; -1 when unbalanced."""
    return next((i for i, ch, depth in _scan(expr, start) if ch == ")" and depth == 0), -1)


def _split_top(expr: str, word: str) -> list[str]:
    """Split on word where it is outside parentheses and quotes."""
    cuts = [i for i, _, depth in _scan(expr) if depth == 0 and expr.startswith(word, i)]
    parts, last = [], 0
    for i in cuts:
        if i >= last:
            parts.append(expr[last:i].strip())
            last = i + len(word)
    parts.append(expr[last:].strip())
    return [p for p in parts if p]
