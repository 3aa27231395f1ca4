"""Code reports (pages about one procedure code): the code and its descriptor, summary and billing sentences, service
type and site of service, the payers it names, the modifier, taxonomy, ICD-10 and related-code tables, codes and
modifiers it names in prose, payment figures, and what it says is not available."""

import re
from collections import Counter
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.facts import (CodeAttribute, CodeDescription, DiagnosisRow, MissingData, ModifierRow, PayerMention,
                            RelatedCodeRow, TableCutOff, TaxonomyRow)
from fhir_ire.sources import payments, shapes
from fhir_ire.sources.codes import find_codes, not_reported_with
from fhir_ire.sources.document import Document
from fhir_ire.sources.guide import split_list
from fhir_ire.sources.labels import Labels
from fhir_ire.sources.payers import directory
from fhir_ire.sources.layout import Block, Layout
from fhir_ire.sources.procedures import describe
from fhir_ire.sources.text import sentences
from fhir_ire.uris import CPT

_CODE = shapes.CPT_CODE
_TITLE = re.compile(rf"^(?:\d{{4}}\s+)?CPT®?\s+(?:code\s+)?(?P<code>{_CODE})\s*(?:[:\-–—]\s*(?P<title>.+?))?\s*$", re.I)
_CODE_TITLE = re.compile(rf"^(?P<code>{_CODE})\s+(?P<title>[A-Za-z].{{6,}})$")
_MENTION = re.compile(rf"\bCPT®?\s+(?:code\s+)?({_CODE})\b", re.I)
_MOD = r"(?:[0-9][0-9A-Z]|[A-Z]{2})"
_MODIFIER = re.compile(rf"\bmodifiers?\s+(?P<code>{_MOD})\b(?:(?:,|\s+or|\s+and|,\s+or|,\s+and)\s+{_MOD}\b)*"
                       r"(?:\s+(?:can\s+indicate|indicates|for|to\s+indicate|means|is\s+used\s+for)\s+"
                       r"(?:an?\s+|the\s+)?(?P<desc>[^,.;]+))?")
_MORE_MODIFIERS = re.compile(rf"(?:,|\bor|\band)\s+({_MOD})\b")
# two-letter modifiers paired in a sentence on modifiers ('... or report two lines with RT and LT')
_PAIRED = re.compile(r"\b([A-Z]{2})\s+(?:and|or)\s+([A-Z]{2})\b")
_MODIFIER_LINE = re.compile(rf"^(?P<code>{_MOD})\s*[-–:]\s+(?P<desc>[A-Z].*)$")
_IMAGING = re.compile(r"includ(?:es|ing|ed)\s+(?:the\s+)?(?:[\w-]+,?\s+(?:and\s+)?){0,3}guidance"
                      r"|imaging\s+guidance\s+(?:is\s+)?includ|guidance\s+(?:used\s+)?falls\s+within", re.I)


@lru_cache(maxsize=1)
def _vocab() -> dict:
    return load("reports.json")


def _primary(layout: Layout) -> tuple[str | None, str | None, Block | None]:
    """(code, title, the block naming them): the page's opening code line or code field ('Code: 0600T'), else its
    most mentioned code."""
    labels = Labels.load()
    for b in layout.blocks[:6]:
        if b.kind == "field" and b.value is not None and labels.role(b.label, b.value.clean) == "codes" \
                and re.fullmatch(_CODE, b.value.clean.strip()):
            return b.value.clean.strip().upper(), None, b
        if m := _TITLE.match(b.clean):
            return m.group("code").upper(), m.group("title"), b
        if m := _CODE_TITLE.match(b.clean):
            return m.group("code"), m.group("title"), b
    counts = Counter(c.upper() for b in layout.blocks for c in _MENTION.findall(b.clean))
    return (counts.most_common(1)[0][0], None, None) if counts else (None, None, None)


def _descriptor_block(layout: Layout, after: Block | None) -> Block | None:
    """A page that names its code without a title gives the descriptor as its first sentence, under the code line or
    as the page's opening."""
    blocks = layout.blocks
    start = blocks.index(after) + 1 if after is not None else 0
    for b in blocks[start:start + 2]:
        if b.kind == "paragraph" and describe(b.clean) and len(sentences(b.clean)) <= 2 and not _TITLE.match(b.clean):
            return b
    return None


_CODE_LINE = re.compile(rf"^(?P<code>{_CODE})\s*[-:]?\s+(?P<text>[A-Z][a-z]+,.{{20,}})$")


def _formal_line(layout: Layout, title_block: Block, code: str) -> CodeDescription | None:
    """The code's descriptor set out under a title that names the code in plain words: a line of the code and a
    descriptor in CPT's style ('0581T - Ablation, malignant breast tumor(s), ...') within the next two blocks."""
    k = layout.blocks.index(title_block)
    for b in layout.blocks[k + 1:k + 3]:
        if b.kind == "paragraph" and (m := _CODE_LINE.match(b.clean)) and m.group("code").upper() == code:
            return CodeDescription(source=b.text.source(m.start("text"), m.end("text")), system=CPT, code=code,
                                   role="formal", text=m.group("text"))
    return None


def _sections(layout: Layout) -> list[str]:
    """The section each block falls under; the code's title line names no section."""
    out, current = [], ""
    for b in layout.blocks:
        if b.kind == "heading" and not _TITLE.match(b.clean):
            current = b.clean.rstrip(":")
        out.append(current)
    return out


def _first_sentence(layout: Layout, words, code: str):
    for b, section in zip(layout.blocks, _sections(layout)):
        if b.kind not in ("paragraph", "item") or not any(w in section.lower() for w in words):
            continue
        for a, z in sentences(b.clean):
            if code in b.clean[a:z] and not _TITLE.match(b.clean[a:z]):
                return b.text.source(a, z), b.clean[a:z]
    return None


def _payers(layout: Layout) -> list[PayerMention]:
    words = "|".join(re.escape(w) for w in _vocab()["payers"]["words"])
    after = re.compile(rf"\b(?:{words})\b[^.]{{0,60}}?\b(?:includ(?:e|es|ing)|are|such\s+as|like)?:?\s+"
                       rf"(?P<list>[A-Z][^.]+?)(?:\.|$)")
    before = re.compile(rf"^(?P<list>[A-Z][^.]+?)\s+(?:are|were)\s+(?:the\s+)?(?:key\s+|main\s+|major\s+)?(?:{words})\b")
    named = re.compile(r"^(?P<list>[A-Z][\w&.' -]*(?:,\s*[A-Z][\w&.' -]*)*,?\s+(?:and|&)\s+[A-Z][\w&.'-]*"
                       r"(?:\s[A-Z][\w&.'-]*)*)\b")
    facts = []
    for b, section in zip(layout.blocks, _sections(layout)):
        in_payers = bool(re.search(rf"\b(?:{words})\b", section, re.I))
        if b.kind == "field" and re.search(r"\b(?:payer|payor|insurer|plan)s?\b", section, re.I) \
                and directory().lookup(b.label):  # 'Payer edits' over 'Medicare: Covered under OPPS'
            facts.append(PayerMention(source=b.text.source(0, len(b.label)), name=b.label))
            continue
        said = set()
        if in_payers and b.kind in ("paragraph", "item"):  # a section on payers: the payers it names
            for a, z, entry in directory().find(b.clean):
                if entry is not None and b.clean[a:z] not in said:
                    said.add(b.clean[a:z])
                    facts.append(PayerMention(source=b.text.source(a, z), name=b.clean[a:z]))
        for a, z in sentences(b.clean):
            text = b.clean[a:z]
            m = before.match(text) or after.search(text) or (named.match(text) if in_payers else None)
            if not m or "," not in m.group("list") and " and " not in m.group("list"):
                continue
            names = [n for n in split_list(m.group("list")) if n[:1].isupper() and len(n.split()) <= 6
                     and n not in said]
            if len(names) >= 2:
                src = b.text.source(a, z)
                facts += [PayerMention(source=src, name=n) for n in names]
    return facts


def _table_facts(layout: Layout, b: Block, code: str, ends_document: bool) -> list:
    header = [c.clean for c in b.rows[0].cells]
    first = header[0].lower() if header else ""
    for kind in _vocab()["tables"]["kinds"]:
        if any(w in first for w in kind["key"]):
            break
    else:
        return []

    def column(words):
        return next((i for i, cell in enumerate(header) if any(w in cell.lower() for w in words)), None)

    desc = column(kind["description"]) or 1
    note = column(kind["note"]) or (2 if len(header) > 2 else desc)
    facts, rows = [], b.rows[1:]
    for row in rows:
        cells = [c.clean for c in row.cells]
        if len(cells) < len(header):
            facts.append(TableCutOff(source=row.source(layout.file), table=kind["kind"], rows=-1))
            continue
        src = row.source(layout.file)
        value = cells[0].strip("`* ").upper()
        d, extra = cells[desc], cells[note]
        if kind["kind"] == "modifiers":
            facts.append(ModifierRow(source=src, procedure=code, code=value, description=d, when_to_use=extra))
        elif kind["kind"] == "taxonomy":
            facts.append(TaxonomyRow(source=src, procedure=code, code=value, specialty=d, notes=extra))
        elif kind["kind"] == "diagnoses":
            facts.append(DiagnosisRow(source=src, procedure=code, code=value, description=d, relevance=extra))
        else:
            facts.append(RelatedCodeRow(source=src, procedure=code, code=value, description=d, relationship=extra))
    if ends_document:
        last = rows[-1].source(layout.file) if rows else b.rows[0].source(layout.file)
        facts.append(TableCutOff(source=b.text.source() if rows else last, table=kind["kind"],
                                 rows=len([r for r in rows if len(r.cells) >= len(header)])))
    return facts


def _code_rows(layout: Layout, b: Block, code: str) -> list[RelatedCodeRow | DiagnosisRow]:
    """Rows of a table with no known header that open with another code ('0601T<tab>Ablation ...' under 'Companion
    codes'): related codes, their relationship the section they stand in; rows that open with an ICD-10-CM code
    ('C50.411<tab>Malignant neoplasm ...' under 'Common diagnoses') are the code's diagnoses."""
    out = []
    for row in b.rows:
        cells = [c.clean.strip() for c in row.cells if c]
        if len(cells) > 1 and re.fullmatch(shapes.ICD10_CODE, cells[0]) and "." in cells[0]:
            out.append(DiagnosisRow(source=row.source(layout.file), procedure=code, code=cells[0],
                                    description=cells[1], relevance=b.section))
        elif cells and re.fullmatch(_CODE, cells[0]) and cells[0] != code:
            out.append(RelatedCodeRow(source=row.source(layout.file), procedure=code, code=cells[0],
                                      description=cells[1] if len(cells) > 1 else "",
                                      relationship=b.section or "named"))
    return out


def _missing(layout: Layout) -> list[MissingData]:
    vocab = _vocab()["missing"]
    markers = re.compile("|".join(re.escape(m) for m in vocab["markers"]), re.I)
    facts = []
    for b, section in zip(layout.blocks, _sections(layout)):
        if b.kind == "table":
            continue
        for a, z in sentences(b.clean):
            text = b.clean[a:z]
            if not markers.search(text):
                continue
            topics = [t for t, words in vocab["topics"].items() if any(w in text.lower() for w in words)]
            src = b.text.source(a, z)
            if not topics:
                section_topics = [t for t, words in vocab["topics"].items()
                                  if any(w in section.lower() for w in words)]
                topics = section_topics[:1] or [""]
            facts += [MissingData(source=src, section=section, topic=t) for t in topics]
    return facts


def read_code_report(doc: Document, layout: Layout) -> tuple[str, list, list[str]]:
    """(title, facts, what is missing) of a code report."""
    code, title, title_block = _primary(layout)
    if code is None:
        return doc.name, [], ["code"]
    facts = []
    labels = Labels.load()
    described = next((b for b in layout.blocks if b.kind == "field" and b.value is not None
                      and labels.role(b.label, b.value.clean) == "descriptor"), None)
    if title:
        facts.append(CodeDescription(source=title_block.text.source(), system=CPT, code=code, role="title", text=title))
        if (formal := _formal_line(layout, title_block, code)) is not None:  # '> 0581T - Ablation, malignant ...'
            facts.append(formal)
    elif described is not None:  # 'Long descriptor: Ablation, irreversible electroporation; ...'
        facts.append(CodeDescription(source=described.value.source(), system=CPT, code=code, role="formal",
                                     text=described.value.clean))
    elif (d := _descriptor_block(layout, title_block)) is not None:
        facts.append(CodeDescription(source=d.text.source(), system=CPT, code=code, role="title", text=d.clean))
    words = _vocab()["sections"]
    for role, section_words in (("descriptor", words["descriptor"]), ("summary", words["summary"])):
        if found := _first_sentence(layout, section_words, code):
            facts.append(CodeDescription(source=found[0], system=CPT, code=code, role=role, text=found[0].quote))
    facts += _attributes(layout, code, facts)
    facts += _payers(layout)
    last = max((k for k, b in enumerate(layout.blocks) if not b.cell), default=-1)  # a cell's paragraph is the table's
    ends_without_newline = bool(doc.lines) and doc.lines[-1] != ""
    for k, b in enumerate(layout.blocks):
        if b.kind == "table" and b.rows:
            read = _table_facts(layout, b, code, k == last and (len(b.rows) <= 1 or ends_without_newline))
            facts += read or _code_rows(layout, b, code)
    facts += _missing(layout)
    tabled = {f.code for f in facts if isinstance(f, (RelatedCodeRow, ModifierRow))}
    edits = not_reported_with(layout, code)  # 'do not report 77013 separately' on the code's own page
    facts += edits
    edited = {c for f in not_reported_with(layout) + edits for c in (f.code, *f.others)}  # edits are their own facts
    for e in find_codes(layout, tables=False):  # a code in a list of its own is related, whatever edits say
        listed = e.where == "line" or e.where == "prose" and e.code not in edited
        if e.code != code and e.code not in tabled and listed:
            tabled.add(e.code)
            facts.append(RelatedCodeRow(source=e.source, procedure=code, code=e.code, description=e.description,
                                        relationship=e.relation or "named"))
    for b in layout.blocks:
        found = [(m, [m.group("code")] + _MORE_MODIFIERS.findall(b.clean[m.end("code"):m.end()]))
                 for m in _MODIFIER.finditer(b.clean)]
        for a, z in sentences(b.clean) if found else ():  # '... append modifier 50, or report two lines with RT and LT'
            if "modifier" in b.clean[a:z].lower():
                found += [(m, [m.group(1), m.group(2)]) for m in _PAIRED.finditer(b.clean, a, z)]
        for m, mods in found:
            for mod in mods:
                if mod not in tabled:
                    tabled.add(mod)
                    desc = (m.groupdict().get("desc") or "").strip()
                    facts.append(ModifierRow(source=b.text.source(m.start(), m.end()), procedure=code,
                                             code=mod, description=desc, when_to_use=""))
        if b.kind in ("paragraph", "item") and "modifier" in b.section.lower() \
                and (m := _MODIFIER_LINE.match(b.clean)) and m.group("code") not in tabled:
            tabled.add(m.group("code"))  # a line of a modifier list: '59 - Distinct procedural service'
            facts.append(ModifierRow(source=b.text.source(), procedure=code, code=m.group("code"),
                                     description=m.group("desc"), when_to_use=""))
    columns = payments.column_amounts(layout)
    facts += columns + payments.amounts(layout, code, {p.code for p in columns})
    missing = [] if any(isinstance(f, (ModifierRow, TaxonomyRow, DiagnosisRow, RelatedCodeRow, MissingData))
                        for f in facts) else ["coding tables"]
    return title or f"CPT {code}", facts, missing


def _attributes(layout: Layout, code: str, descriptions: list) -> list[CodeAttribute]:
    facts, labels = [], Labels.load()
    for b in layout.blocks:
        if b.kind == "field" and b.value is not None:
            role = labels.role(b.label, b.value.clean)
            if role in ("service-type", "site-of-service"):
                facts.append(CodeAttribute(source=b.text.source(), system=CPT, code=code, name=role,
                                           value=b.value.clean.strip("*_ ")))
    if not any(f.name == "service-type" for f in facts):
        rx = re.compile(_vocab()["attributes"]["section"])
        for b in layout.blocks:
            if (m := rx.search(b.clean)) and code in b.clean:
                facts.append(CodeAttribute(source=b.text.source(m.start("value"), m.end("value")), system=CPT,
                                           code=code, name="service-type", value=m.group("value")))
                break
    descriptive = [f for f in descriptions if isinstance(f, CodeDescription)]
    approaches = describe(" ".join(f.text for f in descriptive)).approaches
    if len(approaches) == 1:
        approach = next(iter(approaches))
        first = next((f for f in descriptive if approach in describe(f.text).approaches), descriptive[0])
        facts.append(CodeAttribute(source=first.source, system=CPT, code=code, name="approach", value=approach))
    if imaging := next((f for f in descriptive if _IMAGING.search(f.text)), None):
        facts.append(CodeAttribute(source=imaging.source, system=CPT, code=code, name="imaging-included",
                                   value="true"))
    return facts
