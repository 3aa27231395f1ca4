"""Shapes of values: procedure and diagnosis codes, dates in the forms publishers write them, identifiers, money."""

import re
from datetime import date

# CPT: five digits (Category I), four digits + F (II) or T (III). HCPCS Level II: a letter and four digits.
CPT_CODE = r"\d{4}[0-9FT]"
HCPCS_CODE = r"[A-V]\d{4}"
ICD10_CODE = r"[A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?"
PROCEDURE_CODE = rf"(?:{CPT_CODE}|{HCPCS_CODE})"
_CODE_LINE = re.compile(rf"^(?:(?:CPT|HCPCS)®?\s*(?:code\s*)?)?{PROCEDURE_CODE}(?:\s*[,;]?\s*{PROCEDURE_CODE})*$")

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?"
DATE = (rf"(?:{_WEEKDAY}{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
        rf"|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{4}}|{_MONTH}\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}})")
_DATE_RE = re.compile(rf"(?<![\w/]){DATE}(?![\w/])", re.I)
_NOT_AVAILABLE = re.compile(r"^(?:N/?A|n/a|none|not\s+applicable|not\s+available|TBD|-+)\.?$", re.I)
_IDENTIFIER_TOKEN = re.compile(r"^(?=.*\d)[A-Za-z0-9][\w.\-:/]*$|^[A-Z]{1,5}$")
_MONEY = re.compile(r"^\$\s?[\d,]+(?:\.\d+)?$")


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


_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def is_prose(text: str) -> bool:
    """A table cell that says something in sentences ('Irreversible electroporation (CPT 0600T) remains
    investigational.'), not a label, a value or a descriptor: ten words or more and a sentence end."""
    return len(text.split()) >= 10 and bool(_SENTENCE_END.search(text)) and text[:1].isupper()


def is_code_line(text: str) -> bool:
    """The whole text is procedure codes ('20982', 'CPT 76940', '60660, 60661')."""
    return bool(_CODE_LINE.match(text.strip()))


def parse_date(text: str) -> str | None:
    """An ISO date (or YYYY-MM when only a month is given) for the date forms publishers use; None otherwise."""
    text = re.sub(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+", "", text.strip().rstrip(".,;"), flags=re.I)
    text = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", text)
    try:
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", text):
            year = int(m.group(3)) + (2000 if len(m.group(3)) == 2 else 0)
            return date(year, int(m.group(1)), int(m.group(2))).isoformat()
        if m := re.fullmatch(r"(\d{1,2})/(\d{4})", text):
            return f"{int(m.group(2)):04d}-{int(m.group(1)):02d}" if 1 <= int(m.group(1)) <= 12 else None
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        if m := re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", text):
            month = MONTHS.get(m.group(1).lower())
            return date(int(m.group(3)), month, int(m.group(2))).isoformat() if month else None
        if m := re.fullmatch(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})", text):
            month = MONTHS.get(m.group(2).lower())
            return date(int(m.group(3)), month, int(m.group(1))).isoformat() if month else None
        if m := re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{4})", text):
            month = MONTHS.get(m.group(1).lower())
            return f"{int(m.group(2)):04d}-{month:02d}" if month else None
    except ValueError:
        return None
    return None


def month_year(text: str) -> str | None:
    """'06/24' as a date field writes June 2024 (YYYY-MM); None when it is not that shape."""
    m = re.fullmatch(r"(\d{1,2})/(\d{2})", text.strip())
    return f"20{m.group(2)}-{int(m.group(1)):02d}" if m and 1 <= int(m.group(1)) <= 12 else None


def find_dates(text: str):
    """(start, end, ISO date) of every date in the text."""
    for m in _DATE_RE.finditer(text):
        if iso := parse_date(m.group(0)):
            yield m.start(), m.end(), iso


def is_not_available(text: str) -> bool:
    return bool(_NOT_AVAILABLE.match(text.strip()))


def identifier_run(text: str) -> str:
    """The identifier at the start of text ('MP 7.01.109', 'S-164', 'CG-MED-81', 'BI301:00'): tokens with a digit,
    or short capitals before one; '' when text does not start with one."""
    tokens, out = text.split(), []
    for k, tok in enumerate(tokens[:3]):
        tok = tok.rstrip(",;")
        if re.fullmatch(r"(?=.*\d)[A-Za-z0-9][\w.\-:/]*", tok) and not re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", tok):
            out.append(tok.rstrip(".:"))
        elif re.fullmatch(r"[A-Z]{1,5}", tok) and k + 1 < len(tokens) and re.search(r"\d", tokens[k + 1]):
            out.append(tok)
        else:
            break
    return " ".join(out) if any(re.search(r"\d", t) for t in out) else ""


def is_value(text: str) -> bool:
    """A short value rather than prose: a date, 'NA', an identifier or an amount."""
    text = text.strip()
    return bool(parse_date(text) or is_not_available(text) or _MONEY.match(text)
                or (identifier_run(text) == text.rstrip(".") and text))
