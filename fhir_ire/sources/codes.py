"""Procedure and diagnosis codes a document names: code fields ('CPT Code(s): 47370-47371, S2095'), code lines and
code tables (with a descriptor or alone), codes in prose after a cue ('CPT 60660', 'see 47382', 'report 32999'),
and "do not report X with Y" edits. Each with the words the document gives for it and where it stands."""

import re
from dataclasses import dataclass
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.facts import NotReportedWith, Source
from fhir_ire.sources import shapes
from fhir_ire.sources.labels import Labels
from fhir_ire.sources.layout import Block, Layout
from fhir_ire.sources.procedures import describe
from fhir_ire.sources.text import sentences
from fhir_ire.uris import CPT, HCPCS, ICD9CM, ICD10CM

_ONE = rf"(?:{shapes.PROCEDURE_CODE})"
_LIST = rf"{_ONE}(?:\s*-\s*{_ONE})?(?:\s*(?:,|;|and|or|&|/)\s*(?:CPT®?\s*)?{_ONE}(?:\s*-\s*{_ONE})?)*"
_CUE = re.compile(rf"(?P<cue>\b(?:CPT®?|HCPCS|[Cc]odes?|[Ss]ee|[Uu]se|[Rr]eport(?:ed)?|[Bb]ill(?:ed|ing)?|with"
                  r"|such\s+as|for\s+example|[Aa]dd|[Nn]either\s+(?:are|is)|nor|price[sd]?)"
                  rf"\s*(?:®\s*)?(?:codes?\s+)?)(?P<list>{_LIST})(?![\w%/])")
# a code the sentence goes on to say is (not) reported, billed or for something ('77013 is not reported separately',
# '19105 is for cryoablation of a fibroadenoma'), or calls a code ('0581T, a Category III code'); a Category III
# code, whose shape nothing else has
_SAID = re.compile(rf"(?<![\w$./#-])(?P<list>{_LIST})(?=\s+(?:is|are)\s+(?:not\s+)?(?:reported|billed|coded|used|for)\b"
                   rf"|,\s+(?:a|an|the)\s+(?:Category\s+I{{1,3}}\s+)?(?:CPT\s+)?code\b)"
                   rf"|(?<![\w$./#-])(?P<cat3>\d{{4}}T)\b(?!\s*[-–]\s*\d{{4}}T)")  # not a range ('0042T-0999T')
# a code for a body site ('... 32999 for the lung'): the words after 'for' must name a site (data/procedures.json)
_FOR_SITE = re.compile(rf"(?<![\w$./#-])(?P<list>{_LIST})\s+for\s+(?:the\s+)?(?P<site>[a-z]+)\b")
_DESCRIBED = re.compile(rf"(?<![\w$./#-])(?P<list>{_ONE})\s*(?:\((?P<paren>[A-Z][^)]{{3,}})\)|(?=\$\s?\d))")
_LINE = re.compile(rf"^(?:CPT®?\s*(?:[Cc]ode\s*)?)?(?P<code>{_ONE})(?:(?:\s*[-–:|]\s*|\s+)(?P<desc>[A-Za-z(].*))?$")
_NOT_CODE_BEFORE = re.compile(r"(?:modifiers?|policy|#|No\.|number|MP|page|policies|PI-|version)\s*$", re.I)
_NOT_REPORT = re.compile(
    rf"\bdo\s+not\s+report\s+(?:code\s+)?(?P<code>{_ONE})\s+(?:in\s+conjunction|together|along)\s+with\s+"
    rf"(?:codes?\s+)?(?P<others>{_ONE}(?:\s*(?:,|and|or|&)\s*{_ONE})*)", re.I)
_NOT_IN_ADDITION = re.compile(
    rf"(?:codes?\s+)?(?P<others>{_ONE}(?:\s*(?:,|and|or|&)\s*{_ONE})*)\s+(?:are|is|should)\s+not\s+(?:be\s+)?reported"
    rf"\s+(?:in\s+addition\s+to|with)\s+(?:codes?\s+)?(?P<code>{_ONE})", re.I)
_NOT_WITH_PRIMARY = re.compile(  # 'Do not report 76940 or 77002 in addition to 0601T'
    rf"\bdo\s+not\s+report\s+(?:codes?\s+)?(?P<others>{_ONE}(?:\s*(?:,|and|or|&)\s*{_ONE})*)\s+in\s+addition\s+to"
    rf"\s+(?:codes?\s+)?(?P<code>{_ONE})"
    # 'do not report 76641, 76642 or 76942 with 0581T': a list of codes not reported with one ('do not report 0686T
    # in conjunction with 76940, ...' is the other way round: _NOT_REPORT)
    rf"|\bdo\s+not\s+report\s+(?:codes?\s+)?(?P<others2>{_ONE}(?:\s*(?:,|and|or|&)\s*{_ONE})+)\s+with"
    rf"\s+(?:codes?\s+)?(?P<code2>{_ONE})\b", re.I)
_SEPARATELY = re.compile(
    rf"\bdo\s+not\s+(?:report|bill|code)\s+(?:codes?\s+)?(?P<others>{_ONE}(?:\s*(?:,|and|or|&)\s*{_ONE})*)"
    rf"\s+separately", re.I)
_INCLUDED_IN = re.compile(rf"\bincluded\s+in\s+(?:codes?\s+)?(?P<code>{_ONE})", re.I)
_ALL_CODES = re.compile(rf"{_LIST}\.?")  # a field whose value is nothing but codes is a code field, whatever its label
_SYSTEM_CELL = re.compile(r"(?:CPT®?|HCPCS|ICD-?10(?:-CM)?|ICD-10 ?CM)(?:\s+codes?)?:?", re.I)
_SYSTEM_AND_CODE = re.compile(rf"((?:CPT®?|HCPCS|ICD-?10(?:-CM)?):?)\s+({_ONE}|{shapes.ICD10_CODE})", re.I)
# a paragraph that says what the codes after it are ('The following CPT code is non-covered.') heads them
_CODE_LEAD = re.compile(r"\b(?:following|these|the\s+codes?\s+below)\s+(?:\w+\s+){0,2}codes?\b", re.I)
_RELATION = {"see": "see", "use": "use", "report": "report", "reported": "report", "with": "reported with",
             "such as": "comparable"}


@dataclass
class CodeEntry:
    system: str
    code: str
    description: str
    source: Source
    where: str  # field | line | table | prose
    context: str  # the section, and the lead-in the code stands under
    relation: str = ""
    sentence: str = ""  # the sentence a code named in prose stands in
    cells: str = ""  # a table row's cells after the descriptor ('Covered', 'Not covered (MRgFUS, laser)')


def system_of(code: str) -> str:
    if re.fullmatch(shapes.CPT_CODE, code):
        return CPT
    if re.fullmatch(shapes.HCPCS_CODE, code):
        return HCPCS
    return ICD10CM


def expand(text: str) -> list[str]:
    """Codes in a list, ranges expanded ('47370-47371, 47380-47382, S2095')."""
    out = []
    for m in re.finditer(rf"({_ONE})(?:\s*-\s*({_ONE}))?", text):
        a, b = m.group(1), m.group(2)
        if b and a.isdigit() and b.isdigit() and 0 < int(b) - int(a) <= 30:
            out += [f"{n:05d}" for n in range(int(a), int(b) + 1)]
        else:
            out += [c for c in (a, b) if c]
    return list(dict.fromkeys(out))


def find_codes(layout: Layout, labels: Labels | None = None, tables: bool = True) -> list[CodeEntry]:
    labels = labels or Labels.load()
    entries: list[CodeEntry] = []
    lead, prev = "", None
    for b in layout.blocks:
        context = f"{b.section} | {lead}"
        role = labels.role(b.label, b.value.clean) if b.kind == "field" and b.value is not None else None
        if b.kind == "field" and b.value is not None and (role == "codes" or (
                role is None and not labels.is_label(b.label) and _ALL_CODES.fullmatch(b.value.clean.strip()))):
            entries += [CodeEntry(system_of(c), c, "", b.value.source(), "field", context)
                        for c in expand(b.value.clean)]
        elif b.kind == "table" and tables:
            entries += _table_codes(b, context)
        elif b.kind in ("paragraph", "item", "heading"):
            if (m := _LINE.match(b.clean)) and not _NOT_CODE_BEFORE.search(b.clean[:m.start("code")]):
                desc = (m.group("desc") or "").strip()
                entries.append(CodeEntry(system_of(m.group("code")), m.group("code"), desc, b.text.source(), "line",
                                         context))
                rest = b.clean[m.end("code"):]
            else:
                rest = b.clean
            offset = len(b.clean) - len(rest)
            entries += _prose_codes(b, rest, offset, context, {e.code for e in entries if e.source.line == b.line})
            entries += _icd9_codes(b, context)
        if b.kind in ("paragraph", "heading"):
            said = lead if _CODE_LEAD.search(lead) and b.kind == "heading" and prev is not None \
                and prev.kind == "paragraph" else ""  # 'The following code is covered ...' over 'Group 1 Codes'
            lead = f"{b.clean} {said}".strip() if b.clean.endswith(":") or b.kind == "heading" \
                else b.clean if _CODE_LEAD.search(b.clean) else lead
        prev = b
    return entries


def _prose_codes(b: Block, text: str, offset: int, context: str, seen: set) -> list[CodeEntry]:
    out = []
    for rx in (_CUE, _DESCRIBED, _SAID, _FOR_SITE):
        for m in rx.finditer(text):
            group = "list" if m.group("list") else "cat3"
            if _NOT_CODE_BEFORE.search(text[:m.start(group)]) or (
                    rx is _FOR_SITE and not describe(m.group("site")).sites):
                continue
            cue = (m.groupdict().get("cue") or "").strip().lower()
            relation = next((v for k, v in _RELATION.items() if cue.startswith(k)), "")
            desc = (m.groupdict().get("paren") or "").strip()
            sentence = next((text[a:z] for a, z in sentences(text) if a <= m.start(group) < z), text)
            for code in expand(m.group(group)):
                if code in seen:
                    continue
                seen.add(code)
                out.append(CodeEntry(system_of(code), code, desc, b.text.source(offset + m.start(group),
                                                                                offset + m.end(group)),
                                     "prose", context, relation, sentence))
    return out


_ICD9 = re.compile(r"\((?P<code>\d{3}(?:\.\d{1,2})?)\)")
_ICD9_BEFORE = re.compile(r"(?:\([^()]{3,80}\)|\b[A-Za-z][\w-]*)\s*$")  # the condition right before the code


@lru_cache(maxsize=1)
def _condition_words() -> re.Pattern:
    words = load("reports.json")["icd9"]["condition_words"]
    return re.compile(rf"\b(?:{'|'.join(re.escape(w) for w in words)})", re.I)


def _icd9_codes(b: Block, context: str) -> list[CodeEntry]:
    """ICD-9-CM codes in brackets after the condition they name ('a fibroadenoma (benign neoplasm of the breast)
    (217)')."""
    out = []
    for m in _ICD9.finditer(b.clean):
        desc = _ICD9_BEFORE.search(b.clean, max(0, m.start() - 90), m.start())
        if desc and _condition_words().search(desc.group(0)):
            out.append(CodeEntry(ICD9CM, m.group("code"), desc.group(0).strip("() "),
                                 b.text.source(m.start("code"), m.end("code")), "prose", context))
    return out


def _table_codes(b: Block, context: str) -> list[CodeEntry]:
    """Rows whose first cell is a code; a code-type cell or a row of headings names the system."""
    out, heading_system, header, carried = [], None, None, {}
    for row in b.rows:
        cells = [c for c in row.cells if c]
        if not cells:
            continue
        first = cells[0].clean.strip().strip("`*")
        if _SYSTEM_CELL.fullmatch(first) and len(cells) > 1:  # 'CPT:<tab>60660<tab>Ablation ...'
            heading_system = ICD10CM if "ICD" in first.upper() else HCPCS if "HCPCS" in first.upper() else CPT
            cells = cells[1:]
            first = cells[0].clean.strip().strip("`*")
        elif (m := _SYSTEM_AND_CODE.fullmatch(first)) and len(cells) > 1:  # 'ICD-10  D24.1  Benign ...' aligned
            heading_system = ICD10CM if "ICD" in m.group(1).upper() else HCPCS if "HCPCS" in m.group(1).upper() \
                else CPT  # with one space too few to part the system from the code
            first = m.group(2)
        if not (re.fullmatch(_ONE, first) or re.fullmatch(shapes.ICD10_CODE, first)):
            if header is not None and (found := _matrix_codes(b, row, header, context, carried)):
                out += found  # a code matrix: codes in the cells, the row's and column's headings say what each is
                continue
            header = header or row
            joined = " ".join(c.clean for c in cells)
            heading_system = ICD10CM if re.search(r"ICD-?10", joined) else HCPCS if "HCPCS" in joined else \
                CPT if "CPT" in joined else heading_system
            continue
        system = system_of(first) if not re.fullmatch(shapes.ICD10_CODE, first) or re.fullmatch(_ONE, first) \
            else ICD10CM
        rest = [c.clean for c in cells[1:]]
        if rest and re.match(r"(?:CPT|HCPCS|ICD-?10)", rest[0]) and len(rest) > 1:
            system = ICD10CM if "ICD" in rest[0] else HCPCS if "HCPCS" in rest[0] else CPT
            rest = rest[1:]
        elif heading_system == ICD10CM and re.fullmatch(shapes.ICD10_CODE, first):
            system = ICD10CM
        out.append(CodeEntry(system, first, rest[0] if rest else "", row.source(b.text.file), "table", context,
                             cells=" | ".join(rest[1:])))
    return out


_CODE_CELL = re.compile(rf"(?:{_ONE}(?:\s*\([^)]{{1,40}}\))?\s*)+")


def _matrix_codes(b: Block, row, header, context: str, carried: dict) -> list[CodeEntry]:
    """A row of a code matrix ('Liver | RF | 47382 | 47370 | 47380' under 'Organ | Energy | Percutaneous | ...'): each
    cell that holds only codes (a note in brackets allowed: '0581T (malignant)'), described by the row's label cells
    (a label cell left empty carries the one above it, as a merged cell does) and its column's heading, so the
    reading of a descriptor (site, modality, approach) still applies."""
    out, labels = [], []
    for k, cell in enumerate(row.cells):
        if cell and _CODE_CELL.fullmatch(cell.clean.strip()):
            break
        if cell:
            carried[k] = cell.clean
        labels.append(carried.get(k, ""))
    for k, cell in enumerate(row.cells):
        if not cell or not _CODE_CELL.fullmatch(cell.clean.strip()):
            continue
        column = header.cells[k].clean if k < len(header.cells) else ""
        for m in re.finditer(rf"({_ONE})(?:\s*\(([^)]*)\))?", cell.clean):
            words = " ".join(w for w in (*labels, column, m.group(2) or "") if w)
            out.append(CodeEntry(system_of(m.group(1)), m.group(1), words, cell.source(), "table", context))
    return out


def not_reported_with(layout: Layout, primary: str | None = None) -> list[NotReportedWith]:
    """'Do not report X in conjunction with Y', 'Y are not reported in addition to code X', and 'X includes imaging
    guidance; do not report Y separately' (X named in the sentence, or, given primary, the page's own code; with a
    primary only those sentences that name no X are read)."""
    facts = []
    for b in layout.blocks:
        if primary is None:
            for m in _NOT_REPORT.finditer(b.clean):
                others = tuple(dict.fromkeys(re.findall(_ONE, m.group("others"))))
                facts.append(NotReportedWith(source=b.text.source(m.start(), m.end()), code=m.group("code").upper(),
                                             others=others))
            for m in [*_NOT_IN_ADDITION.finditer(b.clean), *_NOT_WITH_PRIMARY.finditer(b.clean)]:
                listed, code = (m.group("others"), m.group("code")) if m.groupdict().get("others") else \
                    (m.group("others2"), m.group("code2"))
                others = tuple(dict.fromkeys(re.findall(_ONE, listed)))
                facts.append(NotReportedWith(source=b.text.source(m.start(), m.end()), code=code.upper(),
                                             others=others))
        for a, z in sentences(b.clean):
            text = b.clean[a:z]
            if not (m := _SEPARATELY.search(text)):
                continue
            host = _INCLUDED_IN.search(text)
            code = host.group("code") if host else primary
            if code is None or (host is None) == (primary is None):
                continue
            others = tuple(c for c in dict.fromkeys(re.findall(_ONE, m.group("others"))) if c != code)
            if others:
                facts.append(NotReportedWith(source=b.text.source(a, z), code=code.upper(), others=others))
    return facts
