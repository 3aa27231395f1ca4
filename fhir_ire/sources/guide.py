"""Reimbursement guides (text extracted from a PDF): per-code descriptors and payment figures from a table broken
over many lines, Category III and pricing statements, documentation payers request, device warnings."""

import re

from fhir_ire.errors import BuildError
from fhir_ire.facts import CodeAttribute, CodeDescription, DeviceWarning, Payment, Statement
from fhir_ire.sources.document import Document
from fhir_ire.sources.patterns import (APPROACHES, CPT_CODE, DATE, IMAGING_INCLUDED, parse_date, read_not_reported_with,
                                       split_list, strip_footnotes)
from fhir_ire.uris import CPT

_CODE_LINE = re.compile(rf"^\s*(?:CPT®?\s*)?({CPT_CODE})\s*$")
_TOKEN = re.compile(r"No\s+national\s+(?:set\s+)?payment|\bN/?A\b|\$\s?[\d,]+(?:\.\d+)?|\(\s*[A-Z][0-9A-Z]?\s*\)|\b\d+(?:\.\d+)?\b",
                    re.IGNORECASE)
_NOT_REPORT_PAREN = re.compile(r"\(?\s*Do\s+not\s+report[^)]*\)?", re.IGNORECASE)
_TOPICS = (
    ("category-iii", re.compile(r"\bCategory\s+III\b", re.I)),
    ("contractor-priced", re.compile(r"\b(?:carrier|contractor)(?:/contractor)?[-\s]priced\b", re.I)),
    ("documentation", re.compile(r"\brequests?\b[^.]*\b(?:documentation|documents|information|report|note)\b"
                                 r"|\b(?:documentation|documents)\b[^.]*\brequest", re.I)),
)
_ITEMS = re.compile(r"^.*\b(?:include|includes|including|requests|request)\b\s*(.+)$", re.I)
_LEADING_VALUES = re.compile(r"(?:(?:\$?[\d,.]+|\([A-Z0-9]{1,2}\))\s+)+")
_DEVICE = re.compile(r"\b(?:using|use of|with)\s+the\s+((?:[A-Z][\w-]*\s+)*?[A-Z][\w-]*\s+[Ss]ystem)\b")
_WARNING_HEADINGS = (("contraindication", re.compile(r"^\s*contraindications?\s*$", re.I)),
                     ("adverse-effect", re.compile(r"^\s*(?:potential\s+)?adverse\s+(?:effects|events)\s*$", re.I)))


def looks_like(doc: Document) -> int:
    flow = doc.flow.lower()
    marks = ["national average payment", "physician fee schedule", "opps", "apc", "status indicator", "asc",
             "reimbursement", "payment indicator", "rvus"]
    return sum(2 for m in marks if m in flow)


def _is_na(token: str) -> bool:
    return token.upper().replace("/", "") == "NA"


def _is_value_line(text: str) -> bool:
    rest = _TOKEN.sub("", text)
    return bool(_TOKEN.search(text)) and not re.search(r"[A-Za-z]{3,}", rest)


def _table_year(doc: Document) -> int | None:
    if m := re.search(r"\b((?:19|20)\d{2})\s+(?:Medicare\s+)?National\s+Average\s+Payment", doc.flow, re.I):
        return int(m.group(1))
    if m := re.search(r"\bCY\s*((?:19|20)\d{2})\b", doc.flow):
        return int(m.group(1))
    if m := re.search(rf"\beffective\s+(?:as\s+of\s+)?({DATE}|(?:19|20)\d{{2}})", doc.flow, re.I):
        return int(m.group(1)[-4:])
    return None


def _payments(code: str, tokens: list[tuple[str, int]], year, doc: Document) -> list[Payment]:
    """Interpret the value tokens after a descriptor: physician fee schedule (RVUs and amounts, or 'no national
    payment'), then the OPPS APC with its status indicator and amount, then the ASC amount and its indicator."""
    kinds = ["none" if t.lower().startswith("no") else "na" if t.upper().replace("/", "") == "NA" else "money"
             if t.startswith("$") else "ind" if t.startswith("(") else "num" for t, _ in tokens]
    apc_at = next((i for i, k in enumerate(kinds) if k == "num" and re.fullmatch(r"\d{4}", tokens[i][0])
                   and i + 1 < len(kinds) and kinds[i + 1] == "ind"), None)
    physician = tokens[:apc_at] if apc_at is not None else tokens
    after = tokens[apc_at:] if apc_at is not None else []
    facts = []

    def add(setting, amount_tok, *, rvu=None, apc=None, ind=None, note=""):
        lines = [ln for _, ln in [amount_tok] + [x for x in (rvu, apc, ind) if x]] if amount_tok else \
            [ln for _, ln in [x for x in (rvu, apc, ind) if x]]
        src = doc.source_of_line(min(lines), max(lines))
        amount = float(amount_tok[0].strip("$ ").replace(",", "")) if amount_tok and amount_tok[0].startswith("$") \
            else None
        facts.append(Payment(source=src, code=code, setting=setting, year=year, amount=amount,
                             rvu=float(rvu[0]) if rvu else None, apc=apc[0] if apc else None,
                             indicator=ind[0].strip("() ") if ind else None, note=note))

    if any(re.match(r"no\s", t, re.I) for t, _ in physician):
        none_tok = next(x for x in physician if x[0].lower().startswith("no"))
        for setting in ("physician-non-facility", "physician-facility"):
            add(setting, none_tok, note=re.sub(r"\s+", " ", none_tok[0]))
    else:
        pairs = [(physician[i], physician[i + 1]) for i in range(0, len(physician) - 1, 2)]
        for setting, (rvu, money) in zip(("physician-non-facility", "physician-facility"), pairs):
            not_paid = _is_na(rvu[0]) and _is_na(money[0])
            add(setting, money, rvu=None if _is_na(rvu[0]) else rvu,
                note="Not applicable (NA)" if not_paid else "")
    if after:
        apc, ind = after[0], after[1]
        money = next((t for t in after[2:] if t[0].startswith("$")), None)
        add("hospital-outpatient", money, apc=apc, ind=ind)
        rest = after[after.index(money) + 1:] if money else []
        asc_money = next((t for t in rest if t[0].startswith("$")), None)
        asc_ind = next((t for t in rest if t[0].startswith("(")), None)
        if asc_money or asc_ind:
            add("asc", asc_money, ind=asc_ind)
    return facts


def _read_table(doc: Document, year) -> list:
    code_lines = [(n, m.group(1)) for n, ln in enumerate(doc.lines, start=1) if (m := _CODE_LINE.match(ln))]
    facts = []
    for k, (start, code) in enumerate(code_lines):
        stop = code_lines[k + 1][0] if k + 1 < len(code_lines) else len(doc.lines) + 1
        desc_lines, tokens, n = [], [], start + 1
        while n < stop:
            text = doc.lines[n - 1].strip()
            if text and tokens and len(text) > 70 and not _is_value_line(text):
                break  # prose after the table
            depth = sum(doc.lines[i - 1].count("(") - doc.lines[i - 1].count(")") for i in desc_lines)
            if text and not tokens and depth > 0:
                desc_lines.append(n)  # still inside the descriptor's parenthesis ("Do not report ... with")
            elif text and (tokens or _is_value_line(text)):
                tokens += [(t.group(0), n) for t in _TOKEN.finditer(text)] if _is_value_line(text) else []
            elif text:
                desc_lines.append(n)
            n += 1
        if not desc_lines:
            continue
        src = doc.source_of_line(desc_lines[0], desc_lines[-1])
        descriptor = re.sub(r"\s+", " ", _NOT_REPORT_PAREN.sub("", src.quote)).strip(" ,;")
        facts.append(CodeDescription(source=src, system=CPT, code=code, role="formal", text=descriptor))
        if approach := next((a for a in APPROACHES if re.search(rf"\b{a}\b", descriptor, re.I)), None):
            facts.append(CodeAttribute(source=src, system=CPT, code=code, name="approach", value=approach))
        if IMAGING_INCLUDED.search(descriptor):
            facts.append(CodeAttribute(source=src, system=CPT, code=code, name="imaging-included", value="true"))
        facts.extend(_payments(code, tokens, year, doc))
    return facts


def _read_statements(doc: Document) -> list[Statement]:
    facts = []
    for start, end in doc.sentences():
        lead = _LEADING_VALUES.match(doc.flow, start, end)
        start = lead.end() if lead else start  # table values left before a sentence by PDF extraction
        text = strip_footnotes(doc.flow[start:end])
        for topic, pattern in _TOPICS:
            if pattern.search(text):
                items = ()
                if topic == "documentation" and text.rstrip().endswith(":"):
                    items = tuple(_bullets_after(doc, doc.line_at(end - 1)))
                elif topic == "documentation" and (m := _ITEMS.search(text)):
                    items = tuple(split_list(re.sub(r"\s+as\s+well\s+as\s+", ", ", m.group(1)), on_and=False))
                facts.append(Statement(source=doc.source_of_span(start, end), topic=topic,
                                       text=strip_footnotes(text.strip()), items=items))
    return facts


def _bullets_after(doc: Document, line: int) -> list[str]:
    items, n = [], line + 1
    while n <= len(doc.lines) and (text := doc.lines[n - 1].strip()):
        if text.startswith(("•", "-", "*", "▪")):
            items.append(text.lstrip("•-*▪ ").strip())
        elif items:
            items[-1] += " " + text
        n += 1
    return items


def read_device_warnings(doc: Document) -> list[DeviceWarning]:
    """Bulleted contraindication and adverse-effect lists under their headings."""
    facts = []
    for n, line in enumerate(doc.lines, start=1):
        for wtype, heading in _WARNING_HEADINGS:
            if not heading.match(line):
                continue
            body, seen_bullet, m = [], False, n + 1
            while m <= len(doc.lines):
                text = doc.lines[m - 1].strip()
                if not text and seen_bullet:
                    break
                if text:
                    body.append(m)
                    seen_bullet = seen_bullet or "•" in text
                m += 1
            if not body:
                continue
            span = doc.source_of_line(body[0], body[-1]).quote
            lead, _, listed = span.partition("•")
            device = (_DEVICE.search(lead) or _DEVICE.search(doc.flow))
            device_name = device.group(1) if device else ""
            for item in re.split(r"\s*•\s*|\s+o\s+(?=[A-Z])", listed):
                item = item.strip(" .;")
                if item:
                    line_no = next((b for b in body if item.split()[0] in doc.lines[b - 1]), body[0])
                    facts.append(DeviceWarning(source=doc.source_of_line(line_no), type=wtype, device=device_name,
                                               text=item))
    return facts


def read_guide(doc: Document) -> tuple[str, list]:
    year = _table_year(doc)
    facts = _read_table(doc, year)
    if not any(isinstance(f, CodeDescription) for f in facts):
        raise BuildError("reimbursement guide has no payment table (no code lines followed by a descriptor)", doc.name)
    if m := re.search(rf"\beffective\s+(?:as\s+of\s+)?({DATE})", doc.flow, re.I):
        if iso := parse_date(m.group(1)):
            src = doc.source_of_span(m.start(), m.end())
            facts += [CodeAttribute(source=src, system=CPT, code=c.code, name="effective-date", value=iso)
                      for c in facts if isinstance(c, CodeDescription)]
    facts += _read_statements(doc) + read_device_warnings(doc) + read_not_reported_with(doc)
    title_lines = []
    for line in doc.lines:
        if line.strip() and line.strip().upper() == line.strip() and re.search(r"[A-Z]{3}", line):
            title_lines.append(line.strip())
        elif title_lines or line.strip():
            break
    return " ".join(title_lines) or "Reimbursement guide", facts
