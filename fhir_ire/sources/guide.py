"""Reimbursement and coding guides: per-code descriptors and payment figures, Category III and pricing statements,
documentation payers request, device warnings; and coding articles (a code and its descriptor, the codes reported
with it, a payer's stance they report)."""

import re

from fhir_ire.facts import CodeAttribute, CodeDescription, CodeMention, DeviceWarning, Statement
from fhir_ire.sources import payments, shapes
from fhir_ire.sources.codes import find_codes
from fhir_ire.sources.document import Document
from fhir_ire.sources.layout import Layout
from fhir_ire.sources.procedures import describe
from fhir_ire.sources.text import sentences
from fhir_ire.uris import CPT

_TOPICS = (
    ("category-iii", re.compile(r"\bCategory\s+III\b", re.I)),
    ("contractor-priced", re.compile(r"\b(?:carrier|contractor)(?:/contractor)?[-\s]priced\b", re.I)),
    ("documentation", re.compile(r"\brequests?\b[^.]*\b(?:documentation|documents|information|report|note)\b"
                                 r"|\b(?:documentation|documents)\b[^.]*\brequest", re.I)),
)
_ITEMS = re.compile(r"^.*\b(?:include|includes|including|requests|request)\b\s*(.+)$", re.I)
_LEADING_VALUES = re.compile(r"^(?:(?:\$?[\d,.]+|\([A-Z0-9]{1,2}\))\s+)+")
_DEVICE = re.compile(r"\b(?:using|use of|with)\s+the\s+((?:[A-Z][\w-]*\s+)*?[A-Z][\w-]*\s+[Ss]ystem)\b")
_WARNING_HEADINGS = (("contraindication", re.compile(r"^\s*contraindications?\s*$", re.I)),
                     ("adverse-effect", re.compile(r"^\s*(?:potential\s+)?adverse\s+(?:effects|events)\s*$", re.I)))
_FOOTNOTE = re.compile(r"(?<=[a-z)])\d{1,2}\b")


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
            pending = part
            continue
        out.append(f"{pending}, {part}" if pending else part)
        pending = ""
    return out + ([pending] if pending else [])


def _statements(layout: Layout) -> list[Statement]:
    facts = []
    blocks = layout.blocks
    for k, b in enumerate(blocks):
        if b.kind not in ("paragraph", "item"):
            continue
        for a, z in sentences(b.clean):
            lead = _LEADING_VALUES.match(b.clean[a:z])
            a = a + lead.end() if lead else a  # table values left before a sentence by PDF extraction
            text = _FOOTNOTE.sub("", b.clean[a:z]).strip()
            listing = text.endswith(":") and re.search(r"\brequests?\b", text, re.I) and \
                k + 1 < len(blocks) and blocks[k + 1].kind == "item"
            for topic, pattern in _TOPICS:
                if not (pattern.search(text) or (topic == "documentation" and listing)):
                    continue
                items = ()
                if topic == "documentation" and text.endswith(":"):
                    items = tuple(_items_after(blocks, k))
                elif topic == "documentation" and (m := _ITEMS.search(text)):
                    items = tuple(split_list(re.sub(r"\s+as\s+well\s+as\s+", ", ", m.group(1)), on_and=False))
                facts.append(Statement(source=b.text.source(a, z), topic=topic, text=text, items=items))
    return facts


def _items_after(blocks, k) -> list[str]:
    out = []
    for b in blocks[k + 1:]:
        if b.kind != "item":
            break
        out.append(b.clean)
    return out


def device_warnings(layout: Layout) -> list[DeviceWarning]:
    """Contraindication and adverse-effect lists under their headings."""
    facts, blocks = [], layout.blocks
    flow = " ".join(b.clean for b in blocks)
    for k, b in enumerate(blocks):
        for wtype, heading in _WARNING_HEADINGS:
            if b.kind != "heading" or not heading.match(b.clean):
                continue
            body = []
            for x in blocks[k + 1:]:
                if x.kind == "heading":
                    break
                body.append(x)
            lead = " ".join(x.clean for x in body if x.kind == "paragraph")
            device = _DEVICE.search(lead) or _DEVICE.search(flow)
            name = device.group(1) if device else ""
            for item in (x for x in body if x.kind == "item"):
                for part in re.split(r"\s+o\s+(?=[A-Z])", item.clean):
                    part = part.strip(" .;")
                    if part:
                        facts.append(DeviceWarning(source=item.text.source(), type=wtype, device=name, text=part))
    return facts


def read_guide(doc: Document, layout: Layout) -> tuple[str, list, list[str]]:
    """(title, facts, what is missing) of a reimbursement or coding guide."""
    year = payments.table_year(layout)
    facts, table_codes = [], set()
    for code, descriptor, src, pays in payments.payment_table(doc.lines, doc.name, layout, year):
        table_codes.add(code)
        facts.append(CodeDescription(source=src, system=CPT, code=code, role="formal", text=descriptor))
        facts += _attributes(code, descriptor, src)
        facts += pays
    entries = find_codes(layout)
    for e in entries:
        if e.code in table_codes:
            continue
        if e.where == "line" and e.description and len(e.description.split()) >= 3 and e.system == CPT:
            facts.append(CodeDescription(source=e.source, system=CPT, code=e.code, role="formal",
                                         text=e.description.rstrip(" .")))
            facts += _attributes(e.code, e.description, e.source)
        else:
            facts.append(CodeMention(source=e.source, system=e.system, code=e.code, description=e.description))
    listed = {e.code for e in entries if e.where in ("table", "line", "field") and e.system == CPT} | table_codes
    columns = payments.column_amounts(layout, next(iter(listed)) if len(listed) == 1 else None)  # a one-code guide
    facts += columns + payments.amounts(layout, None, table_codes | {p.code for p in columns})
    if table_codes and (m := re.search(rf"\beffective\s+(?:as\s+of\s+)?({shapes.DATE})", " ".join(
            b.clean for b in layout.blocks), re.I)):
        if iso := shapes.parse_date(m.group(1)):
            where = next(b for b in layout.blocks if m.group(1) in b.clean)
            src = where.text.source(where.clean.index(m.group(0)) if m.group(0) in where.clean else 0)
            facts += [CodeAttribute(source=src, system=CPT, code=c, name="effective-date", value=iso)
                      for c in sorted(table_codes)]
    facts += _statements(layout) + device_warnings(layout) + payer_positions(layout)
    title = _title(layout)
    missing = [] if any(isinstance(f, (CodeDescription, CodeMention)) for f in facts) else ["codes"]
    return title, facts, missing


def payer_positions(layout: Layout) -> list:
    """Coverage positions a guide reports a payer taking ('Medicare carriers consider RFA ... investigational'):
    only sentences that name the payer they are about."""
    from fhir_ire.sources.codes import system_of
    from fhir_ire.sources.payers import directory
    from fhir_ire.sources.policy import _skip_sections
    from fhir_ire.sources.positions import find_positions, position_facts
    from fhir_ire.sources.procedures import Procedure

    found = [p for p in find_positions(layout, Procedure(), _skip_sections())
             if any(entry for _, _, entry in directory().find(layout.blocks[p.block].clean[p.start:p.end]))]
    return position_facts(layout, found, system_of)


def _attributes(code: str, descriptor: str, src) -> list[CodeAttribute]:
    proc, out = describe(descriptor), []
    if len(proc.approaches) == 1:
        out.append(CodeAttribute(source=src, system=CPT, code=code, name="approach", value=next(iter(proc.approaches))))
    if re.search(r"includ(?:es|ing|ed)\s+(?:the\s+)?(?:[\w-]+,?\s+(?:and\s+)?){0,3}guidance", descriptor, re.I):
        out.append(CodeAttribute(source=src, system=CPT, code=code, name="imaging-included", value="true"))
    return out


def _title(layout: Layout) -> str:
    heads = []
    for b in layout.blocks[:4]:
        if b.kind == "heading" and b.clean.isupper():
            heads.append(b.clean)
        elif heads or b.kind != "heading":
            break
    if heads:
        return " ".join(heads)
    first = next((b for b in layout.blocks if b.kind == "heading"), None)
    return first.clean if first else "Reimbursement guide"
