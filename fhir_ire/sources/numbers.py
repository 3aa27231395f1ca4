"""A policy's number where no field gives it: in the opening line, a heading with its version, a line alone near the
top, a cell of the masthead ('January 2026 | No. 2026-02'), or the sentence that names the policy a notice or a
letter is about ('HAP has amended Medical Policy 0453', 'under medical policy MPM 12.4')."""

import re

from fhir_ire.facts import PolicyField
from fhir_ire.sources import shapes
from fhir_ire.sources.labels import Labels
from fhir_ire.sources.layout import Layout
from fhir_ire.sources.text import sentences

_TITLE_NUMBER = re.compile(r"(?<![\w-])(?=[A-Z0-9.-]*\d)(?=[A-Z0-9.-]*[A-Z])[A-Z][A-Z0-9]{0,7}(?:[-.][A-Z0-9]{1,8}){1,4}(?![\w-])")


_VERSIONED = re.compile(r"\((?P<n>[A-Z]{1,5}[-.]?\d{2,6}),\s*(?:Ver\.?|Version|Rev\.?)\s*\d+\)")
_LONE_NUMBER = re.compile(r"(?=[\d.-]*\d[\d.-]*$)\d{1,4}(?:[-.]\d{1,6}){2,3}")
_LABELLED_NUMBER = re.compile(r"(?P<label>\b[A-Z][A-Za-z]*(?:\s+[A-Za-z]+)?\s+(?:No\.?|#|Number))\s*:?\s*"
                              r"(?P<n>[A-Z0-9][\w.-]*\d[\w.-]*)(?![\w-])")
_NOT_NUMBER = re.compile(r"(?:1-)?\d{3}-\d{3}-\d{4}|\d{1,2}[-.]\d{1,2}[-.](?:\d{2}|\d{4})")  # a phone number or a date


def _number_in_title(layout: Layout) -> list[PolicyField]:
    """A policy number that stands in the document's opening line without a label ('Anthem ... CG-SURG-61 ...'), with
    its version in a heading ('... (CG071, Ver. 4)'), or alone on a line near the top ('02-40000-26')."""
    for b in layout.blocks[:2]:
        if b.kind in ("heading", "paragraph") and (m := _TITLE_NUMBER.search(b.clean)):
            return [PolicyField(source=b.text.source(m.start(), m.end()), name="number", value=m.group(0))]
    labels = Labels.load()
    for b in layout.blocks[:6]:  # a number label inside an opening heading ('Surgery, Policy No. 214')
        for m in _LABELLED_NUMBER.finditer(b.clean) if b.kind == "heading" else ():
            if labels.role(m.group("label"), m.group("n")) == "number":
                return [PolicyField(source=b.text.source(m.start("n"), m.end("n")), name="number", value=m.group("n"))]
    for b in layout.blocks[:15]:
        if b.kind in ("heading", "paragraph", "field") and (m := _VERSIONED.search(b.clean)):
            return [PolicyField(source=b.text.source(m.start("n"), m.end("n")), name="number", value=m.group("n"))]
        if b.kind in ("heading", "paragraph") and _LONE_NUMBER.fullmatch(b.clean) \
                and not _NOT_NUMBER.fullmatch(b.clean):
            return [PolicyField(source=b.text.source(), name="number", value=b.clean)]
    return []


_POLICY_NAMED = re.compile(r"\b(?:medical|clinical|coverage|payment|reimbursement)\s+policy\s+"
                           r"(?:(?:No\.?|#|Number)\s*:?\s*)?(?P<rest>[A-Z0-9].*)", re.I)
_CITING = re.compile(r"\b(?:see|refer|addressed|separately|related|also|other)\b", re.I)
_YEAR = re.compile(r"(?:19|20)\d\d")


def _number_in_cell(layout: Layout) -> list[PolicyField]:
    """A number field in a cell of a table near the top (a masthead: 'January 2026 | No. 2026-02')."""
    labels = Labels.load()
    for b in layout.blocks[:6]:
        for row in b.rows if b.kind == "table" else ():
            for cell in row.cells:
                for label, value, rest in labels.split_fields(cell.clean):
                    if not rest and labels.role(label, value) == "number":
                        at = cell.clean.index(value, len(label))
                        return [PolicyField(source=cell.source(at, at + len(value)), name="number", value=value)]
    return []


def _number_in_prose(layout: Layout) -> list[PolicyField]:
    """The policy a notice or a letter is about, named with its number in a sentence ('HAP has amended Medical Policy
    0453.'); not a policy the text only points to ('see medical policy 00175')."""
    for b in layout.blocks:
        if b.kind not in ("paragraph", "item", "field"):
            continue
        for a, z in sentences(b.clean):
            text = b.clean[a:z]
            m = _POLICY_NAMED.search(text)
            if m is None or _CITING.search(text):
                continue
            number = shapes.identifier_run(m.group("rest")).rstrip(".,;")
            if number and not _YEAR.fullmatch(number) and not _NOT_NUMBER.fullmatch(number):
                at = a + m.start("rest")
                return [PolicyField(source=b.text.source(at, at + len(number)), name="number", value=number)]
    return []


def number_without_field(layout: Layout) -> list[PolicyField]:
    """The policy number of a document whose fields give none."""
    return _number_in_title(layout) or _number_in_cell(layout) or _number_in_prose(layout)
