"""Document fields: policy number, title, dates by role, line of business, the payer a field names; from field
blocks (any layout the layout model reads) and from the few dates stated in prose ('for dates of service on or after
April 1, 2024')."""

import re
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.facts import PolicyField
from fhir_ire.sources import shapes
from fhir_ire.sources.labels import Labels
from fhir_ire.sources.layout import Layout
from fhir_ire.sources.text import Passage, sentences

FIELD_ROLES = ("number", "title", "line-of-business", "payer", "section")


@lru_cache(maxsize=1)
def _date_phrases() -> list[tuple[str, re.Pattern]]:
    data = load("labels.json")["date_phrases"]["phrases"]
    return [(d["role"], re.compile(rf"\b(?:{'|'.join(re.escape(p) for p in d['phrases'])})\s+(?={shapes.DATE})", re.I))
            for d in data]


@lru_cache(maxsize=1)
def _opening_phrases() -> list[tuple[str, re.Pattern, tuple[str, ...]]]:
    data = load("labels.json")["date_phrases"].get("opening", [])
    return [(d["role"], re.compile(rf"(?:{'|'.join(re.escape(p) for p in d['phrases'])})\s+(?={shapes.DATE})", re.I),
             tuple(t.lower() for t in d.get("then", ())))
            for d in data]


def _date_facts(role: str, value: Passage) -> list[PolicyField]:
    found = list(shapes.find_dates(value.clean))
    if not found:
        text = value.clean.strip()
        if month := shapes.month_year(text):  # 'Last Review Date: 06/24' in a date field: June 2024
            return [PolicyField(source=value.source(), name=role, value=month)]
        return [PolicyField(source=value.source(), name=role, value=text)] if shapes.is_not_available(text) else []
    return [PolicyField(source=value.source(a, b), name=role, value=iso) for a, b, iso in found]


def read_fields(layout: Layout, labels: Labels | None = None) -> list[PolicyField]:
    labels = labels or Labels.load()
    facts = []
    for b in layout.blocks:
        if b.kind != "field" or b.value is None:
            continue
        value = b.value.clean.strip()
        role = labels.role(b.label, value)
        if role is None:
            continue
        if role.endswith("-date"):
            facts += [PolicyField(source=f.source, name=f.name, value=f.value) for f in _date_facts(role, b.value)]
        elif role == "number":
            facts.append(PolicyField(source=b.text.source(), name="number", value=shapes.identifier_run(value)))
        elif role in FIELD_ROLES and value and not shapes.is_not_available(value):
            facts.append(PolicyField(source=b.text.source(), name=role, value=value))
    facts += _dates_in_prose(layout)
    facts += _history_dates(layout, {f.name for f in facts})
    return facts


_REVIEWED = re.compile(r"\breview(?:ed)?\b", re.I)
_NEW_POLICY = re.compile(r"\bnew\s+(?:\w+\s+){0,2}policy\b|\boriginally\s+(?:approved|issued|adopted)\b", re.I)
_EFFECTIVE = re.compile(rf"\beffective\s+(?:on\s+)?(?={shapes.DATE})", re.I)


def _history_dates(layout: Layout, known: set[str]) -> list[PolicyField]:
    """Dates a policy history gives, when no field does: its newest row that says the policy was reviewed is the last
    review ('12/2024 | Annual policy review'); the row of the new policy gives the original effective date when it
    says when the policy took effect ('1/2021 New medical policy ... Effective 1/1/2021', 'Originally approved June
    14, 2022 by MPAC, effective September 1, 2022'); the row's own date is when it was written, not in effect."""
    rows = []  # (text, source) of each history row: a table row, a paragraph or a list item
    for b in layout.blocks:
        if b.kind == "table":
            rows += [(" ".join(c.clean for c in r.cells), r.source(layout.file)) for r in b.rows]
        else:
            rows.append((b.clean, b.text.source()))
    facts, reviews = [], []
    for text, source in rows:
        first = next(shapes.find_dates(text), None)
        dated = first is not None and first[0] == 0
        if dated and _REVIEWED.search(text[first[1]:]):
            reviews.append((first[2], source))
        if _NEW_POLICY.search(text) and "original-effective-date" not in known:
            said = _EFFECTIVE.search(text)
            if said:  # the row's own date is when the policy was written or approved, not when it took effect
                when = next(shapes.find_dates(text[said.end():]))[2]
                facts.append(PolicyField(source=source, name="original-effective-date", value=when))
                known = known | {"original-effective-date"}
    if reviews and "last-review-date" not in known:
        when, source = max(reviews, key=lambda r: r[0])
        facts.append(PolicyField(source=source, name="last-review-date", value=when))
    return facts


def _dates_in_prose(layout: Layout) -> list[PolicyField]:
    facts = []
    for b in layout.blocks:
        if b.kind not in ("paragraph", "item", "heading"):
            continue
        for role, rx in _date_phrases():
            for m in rx.finditer(b.clean):
                start, end, iso = next(shapes.find_dates(b.clean[m.end():]))
                facts.append(PolicyField(source=b.text.source(m.start(), m.end() + end), name=role, value=iso))
        for a, z in sentences(b.clean):
            for role, rx, then in _opening_phrases():
                if m := rx.match(b.clean, a):
                    start, end, iso = next(shapes.find_dates(b.clean[m.end():]))
                    rest = b.clean[m.end() + end:z].lower()
                    if start == 0 and rest.startswith(",") and (not then or any(t in rest for t in then)):
                        facts.append(PolicyField(source=b.text.source(a, m.end() + end), name=role, value=iso))
    return facts


def published_date(layout: Layout) -> list[PolicyField]:
    """A date that opens one of the first blocks of a guide or code page (its date line or cover)."""
    first = load("labels.json")["published_date_blocks"]["first_blocks"]
    for b in layout.blocks[:first]:
        cells = [r.cells for r in b.rows] if b.kind == "table" else [[b.text]]
        for cell in (c for row in cells for c in row if c):
            found = next(shapes.find_dates(cell.clean), None)
            if found and found[0] == 0 or (found and re.fullmatch(r"[A-Za-z]+,?\s*", cell.clean[:found[0]])):
                return [PolicyField(source=cell.source(0, found[1]), name="published-date", value=found[2])]
    return []
