"""Code reports: one procedure code, its descriptor, site of service, payers, and the modifier, taxonomy,
ICD-10 and related-CPT tables."""

import re
from collections import Counter

from fhir_ire.errors import BuildError
from fhir_ire.facts import (CodeAttribute, CodeDescription, DiagnosisRow, MissingData, ModifierRow, PayerMention,
                            RelatedCodeRow, TableCutOff, TaxonomyRow)
from fhir_ire.sources.document import Document
from fhir_ire.sources.patterns import APPROACHES, CPT_CODE, IMAGING_INCLUDED, read_not_reported_with, split_list
from fhir_ire.sources.tables import Table, read_tables
from fhir_ire.uris import CPT

_TITLE = re.compile(rf"^\s*CPT®?\s+(?:code\s+)?(?P<code>{CPT_CODE})\s*[:\-–—]\s*(?P<title>.+?)\s*$", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"^\s*[-•*]?\s*(?:\*\*|__)?(?P<name>service\s+type|(?:typical\s+)?site\s+of\s+service|place\s+of\s+service)"
                        r"\s*:\s*(?:\*\*|__)?\s*(?P<value>.+?)\s*$", re.IGNORECASE)
_PAYERS = re.compile(r"\bpayers\b[^.|]{0,80}?\binclude[s]?\b:?\s+(?P<list>[^.|]+)\.", re.IGNORECASE)
_MISSING = re.compile(r"data\s+(?:is\s+)?not\s+available", re.IGNORECASE)

# Table kinds by header words, and the header words of their description and note columns.
TABLE_KINDS = (
    ("modifiers", ("modifier",), ("description",), ("when", "use", "note")),
    ("taxonomy", ("taxonomy",), ("specialty", "description"), ("note", "comment")),
    ("diagnoses", ("icd",), ("description",), ("relevance", "note", "comment")),
    ("related-codes", ("cpt", "hcpcs"), ("description",), ("relationship", "relation", "note")),
)


def looks_like(doc: Document) -> int:
    """How strongly the text looks like a code report (0 = not at all)."""
    flow = doc.flow.lower()
    marks = ["billing code overview", "clinical & coding specifications", "summary & overview", "coding specifications",
             "typical site of service", "related diagnoses", "related cpt codes", "| modifier"]
    return sum(2 for m in marks if m in flow) + (3 if any(_TITLE.match(ln) for ln in doc.lines[:10]) else 0)


def _is_heading(line: str) -> bool:
    text = line.strip()
    return (3 <= len(text) <= 60 and not _TITLE.match(text) and "|" not in text and ":" not in text and not text.endswith((".", ","))
            and text[0].isupper() and sum(ch.isalpha() for ch in text) >= 3)


def _primary_code(doc: Document) -> tuple[str, str | None, int | None]:
    for n, line in enumerate(doc.lines[:15], start=1):
        if m := _TITLE.match(line):
            return m.group("code").upper(), m.group("title"), n
    codes = Counter(c.upper() for c in re.findall(rf"\bCPT®?\s+(?:code\s+)?({CPT_CODE})\b", doc.flow, re.I))
    if not codes:
        raise BuildError("code report names no CPT code (expected 'CPT XXXXX: title' or 'CPT code XXXXX')", doc.name)
    return codes.most_common(1)[0][0], None, None


def _sections(doc: Document) -> list[tuple[int, str]]:
    return [(n, ln.strip()) for n, ln in enumerate(doc.lines, start=1) if _is_heading(ln)]


def _section_of(sections, line: int) -> str:
    current = ""
    for n, name in sections:
        if n > line:
            break
        current = name
    return current


def _first_sentence_in(doc: Document, sections, words: tuple[str, ...], code: str):
    for start, end in doc.sentences(within_lines=True):
        text = doc.flow[start:end]
        line = doc.line_at(start)
        if code in text and not _TITLE.match(text) and any(w in _section_of(sections, line).lower() for w in words):
            return start, end
    return None


def _table_facts(doc: Document, table: Table, code: str) -> list:
    first = table.header[0].lower()
    for kind, key_words, desc_words, note_words in TABLE_KINDS:
        if any(w in first for w in key_words):
            break
    else:
        return []
    desc = table.column(*desc_words) or 1
    note = table.column(*note_words) or (2 if len(table.header) > 2 else desc)
    facts = []
    for line, cells in table.rows:
        src = doc.source_of_line(line)
        value, d, extra = cells[0].strip("`* "), cells[desc], cells[note]
        if kind == "modifiers":
            facts.append(ModifierRow(source=src, procedure=code, code=value.upper(), description=d, when_to_use=extra))
        elif kind == "taxonomy":
            facts.append(TaxonomyRow(source=src, procedure=code, code=value.upper(), specialty=d, notes=extra))
        elif kind == "diagnoses":
            facts.append(DiagnosisRow(source=src, procedure=code, code=value.upper(), description=d, relevance=extra))
        else:
            facts.append(RelatedCodeRow(source=src, procedure=code, code=value.upper(), description=d,
                                        relationship=extra))
    if table.cut_off:
        facts.append(TableCutOff(source=doc.source_of_line(table.header_line, table.last_line),
                                 table=kind, rows=len(table.rows)))
    return facts


def read_code_report(doc: Document) -> tuple[str, list]:
    """(title, facts) of a code report."""
    code, title, title_line = _primary_code(doc)
    sections = _sections(doc)
    facts = []
    if title:
        facts.append(CodeDescription(source=doc.source_of_line(title_line), system=CPT, code=code, role="title",
                                     text=title))
    for role, words in (("descriptor", ("billing",)), ("summary", ("summary", "overview"))):
        if span := _first_sentence_in(doc, sections, words, code):
            src = doc.source_of_span(*span)
            facts.append(CodeDescription(source=src, system=CPT, code=code, role=role, text=src.quote))
    descriptive = " ".join(f.text for f in facts if isinstance(f, CodeDescription))
    if approach := next((a for a in APPROACHES if re.search(rf"\b{a}\b", descriptive, re.I)), None):
        first = next(f for f in facts if re.search(rf"\b{approach}\b", f.text, re.I))
        facts.append(CodeAttribute(source=first.source, system=CPT, code=code, name="approach", value=approach))
    if imaging := next((f for f in facts if isinstance(f, CodeDescription) and IMAGING_INCLUDED.search(f.text)), None):
        facts.append(CodeAttribute(source=imaging.source, system=CPT, code=code, name="imaging-included",
                                   value="true"))
    for n, line in enumerate(doc.lines, start=1):
        if m := _ATTRIBUTE.match(line):
            name = "service-type" if "type" in m.group("name").lower() else "site-of-service"
            facts.append(CodeAttribute(source=doc.source_of_line(n), system=CPT, code=code, name=name,
                                       value=m.group("value").strip("*_ ")))
        elif _MISSING.search(line) and "|" not in line:
            facts.append(MissingData(source=doc.source_of_line(n), section=_section_of(sections, n)))
    for m in _PAYERS.finditer(doc.flow):
        src = doc.source_of_span(m.start(), m.end())
        facts.extend(PayerMention(source=src, name=name) for name in split_list(m.group("list")))
    for table in read_tables(doc.lines, doc.name):
        facts.extend(_table_facts(doc, table, code))
    facts.extend(read_not_reported_with(doc))
    return title or f"CPT {code}", facts
