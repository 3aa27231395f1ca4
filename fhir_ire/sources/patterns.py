"""Patterns shared by the readers: code shapes, "do not report" edits, dates, lists."""

import re
from datetime import date

from fhir_ire.facts import NotReportedWith
from fhir_ire.sources.document import Document

# CPT: five digits (Category I), four digits + F (II) or T (III). HCPCS Level II: a letter and four digits.
CPT_CODE = r"\d{4}[0-9FT]"
HCPCS_CODE = r"[A-V]\d{4}"
ICD10_CODE = r"[A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?"
CODE_LIST = rf"(?:{CPT_CODE}|{HCPCS_CODE})(?:\s*(?:,|and|or|&)\s*(?:{CPT_CODE}|{HCPCS_CODE}))*"

APPROACHES = ("percutaneous", "open", "laparoscopic", "endoscopic", "transcatheter")
IMAGING_INCLUDED = re.compile(r"includ(?:es|ing|ed)\s+(?:the\s+)?(?:[\w-]+,?\s+(?:and\s+)?){0,3}guidance"
                              r"|imaging\s+guidance\s+(?:is\s+)?includ", re.IGNORECASE)

_NOT_REPORT = re.compile(
    rf"\bdo\s+not\s+report\s+(?:code\s+)?(?P<code>{CPT_CODE}|{HCPCS_CODE})\s+(?:in\s+conjunction|together|along)\s+"
    rf"with\s+(?:codes?\s+)?(?P<others>{CODE_LIST})", re.IGNORECASE)
_CODE = re.compile(rf"\b(?:{CPT_CODE}|{HCPCS_CODE})\b")


def cpt_category(code: str) -> str:
    """CPT's own code shapes: Category I is numeric, Category II ends in F, Category III ends in T."""
    if re.fullmatch(r"\d{5}", code):
        return "category-i"
    if re.fullmatch(r"\d{4}F", code):
        return "category-ii"
    if re.fullmatch(r"\d{4}T", code):
        return "category-iii"
    return "unknown"


def is_cpt(code: str) -> bool:
    return bool(re.fullmatch(CPT_CODE, code))


def read_not_reported_with(doc: Document) -> list[NotReportedWith]:
    facts = []
    for m in _NOT_REPORT.finditer(doc.flow):
        others = tuple(dict.fromkeys(_CODE.findall(m.group("others"))))
        facts.append(NotReportedWith(source=doc.source_of_span(m.start(), m.end()),
                                     code=m.group("code").upper(), others=others))
    return facts


def split_list(text: str, on_and: bool = True) -> list[str]:
    """'A, B, C, and D' -> [A, B, C, D]; also splits on semicolons. With on_and, a bare 'and' splits the last item
    of a list without a serial comma ('A, B and C'), or a list of two; names inside a comma list keep their 'and'
    ('A, Blue Cross and Blue Shield, C'). A qualifier part ('for X and Y') is joined to the part after it."""
    text = text.strip().rstrip(".")
    serial = re.search(r",\s*(?:and|or)\s+", text)
    parts = [p.strip(" .:") for p in re.split(r"\s*(?:;|,\s*(?:and|or)\s+|,)\s*", text) if p.strip(" .:")]
    if on_and and parts and not serial:
        last = re.split(r"\s+and\s+", parts[-1])
        parts = parts[:-1] + [p.strip(" .:") for p in last if p.strip(" .:")]
    out, pending = [], ""
    for part in parts:
        if re.match(r"(?:for|when|if|in)\b", part, re.I) and not pending:
            pending = part  # a qualifier: it belongs to the item after it
            continue
        out.append(f"{pending}, {part}" if pending else part)
        pending = ""
    return out + ([pending] if pending else [])


def strip_footnotes(text: str) -> str:
    """Footnote markers glued to words by PDF extraction: 'necessity5' -> 'necessity'."""
    return re.sub(r"(?<=[a-z)])\d{1,2}\b", "", text)


_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}


def parse_date(text: str) -> str | None:
    """MM/DD/YYYY, YYYY-MM-DD or 'Month D, YYYY' -> ISO date; None when it is not a date."""
    text = text.strip()
    try:
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2))).isoformat()
        if m := re.fullmatch(r"(\d{1,2})/(\d{4})", text):  # month and year only: a FHIR partial date
            return f"{int(m.group(2)):04d}-{int(m.group(1)):02d}" if 1 <= int(m.group(1)) <= 12 else None
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        if m := re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", text):
            month = _MONTHS.get(m.group(1).lower())
            return date(int(m.group(3)), month, int(m.group(2))).isoformat() if month else None
    except ValueError:
        return None
    return None


DATE = r"(?:\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}|[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4})"
