"""Payer coverage policies: payer and alias, policy number, line of business, dates, the coverage statement and its
category, criteria, prior authorization, the codes the policy governs, and "no NCD/LCD" statements."""

import re

from fhir_ire.errors import BuildError
from fhir_ire.facts import CoverageStatement, Criterion, GovernedCode, PolicyField, PriorAuthorization, Statement
from fhir_ire.sources.document import Document
from fhir_ire.sources.patterns import CPT_CODE, HCPCS_CODE, ICD10_CODE, parse_date, read_not_reported_with
from fhir_ire.uris import CPT, HCPCS, ICD10CM

_FIELDS = (
    ("number", r"(?:policy|guideline|document)\s+(?:number|no\.?|#|id)"),
    ("line-of-business", r"line\s+of\s+business|lines\s+of\s+business|product\s+line"),
    ("original-effective-date", r"original\s+effective\s+date"),
    ("effective-date", r"effective\s+date"),
    ("revision-date", r"revision\s+date|revised\s+date|last\s+revised|date\s+revised"),
    ("review-date", r"(?:last\s+)?review(?:ed)?\s+date|date\s+reviewed"),
    ("next-review-date", r"next\s+review\s+date"),
    ("payer", r"payer|health\s+plan|plan\s+name|issued\s+by"),
)
_FIELD_LINE = re.compile(r"^\s*(?:\*\*)?(?P<name>[A-Za-z .#]+?)(?:\*\*)?\s*:\s*(?:\*\*)?(?P<value>.+?)(?:\*\*)?\s*$")
_ORG_WORDS = re.compile(r"\b(?:HEALTH|PLAN|CARE|INSURANCE|MUTUAL|ASSURANCE|BLUE|CROSS|SHIELD|MEDICAL|COMPANY|INC|"
                        r"PARTNERS|COMMUNITY|HMO|NETWORK)\b")
_STATEMENTS = (
    ("investigational", re.compile(r"\b(?:experimental|investigational|unproven)\b", re.I)),
    ("not-covered", re.compile(r"\bnot\b[^.]{0,60}\b(?:medically\s+(?:reasonable\s+and\s+)?necessary|covered)\b"
                               r"|\bnon[-\s]?covered\b|\bexcluded\s+from\s+coverage\b", re.I)),
    ("covered-with-criteria", re.compile(r"\b(?:medically\s+(?:reasonable\s+and\s+)?necessary|covered)\b[^.]{0,80}"
                                         r"\b(?:when|if|for\s+members\s+who)\b", re.I)),
)
_DISCLAIMER = re.compile(r"\b(?:imply|implies|guarantee|guarantees|constitute|constitutes)\b", re.I)
_BANNER = re.compile(r"^(?:[A-Za-z]+\s+){0,3}(?:coverage|medical|clinical|payment)\s+(?:policy|guideline|bulletin)$", re.I)
_SKIP_SECTIONS = re.compile(r"^\s*#*\s*(?:policy\s+history|revision\s+history|change\s+summary|history|references|"
                            r"bibliography|coding\s+information|codes|coding|applicable\s+codes|billing\s+codes)\s*$", re.I)
_READ_SECTIONS = re.compile(r"^\s*#*\s*[A-Z][A-Za-z /&-]{2,60}$")
_OTHER_INDICATIONS = re.compile(r"\ball\s+other\s+(?:indications|uses|conditions)\b|\bother\s+than\b", re.I)
_PA = re.compile(r"\b(?:prior\s+(?:authori[sz]ation|approval)|pre-?authori[sz]ation|precertification|"
                 r"pre-?certification)\b", re.I)
_PA_NEGATED = re.compile(r"\b(?:not|no)\s+(?:be\s+)?(?:required|needed)\b|\bis\s+not\s+required\b|\bdoes\s+not\s+require",
                         re.I)
_NO_NCD = re.compile(r"\bno\s+(?:NCDs?|LCDs?|LCAs?|national\s+coverage\s+determination)", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[a-z][.)]|[•\-*▪●◦])\s+(?P<text>.+)$")
_CODE_ROW = re.compile(rf"^\s*(?P<code>{CPT_CODE}|{HCPCS_CODE}|{ICD10_CODE})\s*(?:\t+|\s{{2,}}|\s*\|\s*|\s+[-–]\s+|\s+)"
                       rf"(?P<desc>[A-Za-z].*?)\s*\|?\s*$")
_SECTION_SYSTEMS = ((re.compile(r"ICD-?10", re.I), ICD10CM), (re.compile(r"HCPCS", re.I), HCPCS),
                    (re.compile(r"CPT", re.I), CPT))


def looks_like(doc: Document) -> int:
    flow = doc.flow.lower()
    marks = ["policy number", "effective date", "line of business", "coverage policy", "medically necessary",
             "coverage determination", "prior authorization", "review date", "coding information"]
    return sum(2 for m in marks if m in flow)


def _title_case(name: str) -> str:
    return " ".join(w if len(w) <= 3 and w.isupper() and not w.isalpha() else w.capitalize() for w in name.split())


def _payer(doc: Document) -> tuple[str, int] | None:
    for n, line in enumerate(doc.lines[:40], start=1):
        text = line.strip().strip("*# ")
        if (text and text.upper() == text and len(text.split()) >= 2 and len(text) <= 80
                and re.fullmatch(r"[A-Z0-9&.,' -]+", text) and _ORG_WORDS.search(text)):
            return _title_case(text), n
    return None


def _is_contraction(alias: str, words: list[str]) -> bool:
    """'iCare' from 'Independent Care ...', 'LCHP' from 'Lakeshore Community Health Plan': prefixes of consecutive
    payer-name words, at least two of them."""
    alias = alias.lower()

    def fits(a: str, i: int, used: int) -> bool:
        if not a:
            return used >= 2
        if i >= len(words):
            return False
        return any(fits(a[k:], i + 1, used + 1) for k in range(1, len(a) + 1) if words[i].startswith(a[:k]))

    return fits(alias, 0, 0)


def _aliases(doc: Document, payer: str) -> list[tuple[str, int]]:
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", payer)]
    found = {}
    quoted = re.compile(r"\(\s*(?:the\s+)?[\"“']?(?P<a>[A-Z][\w-]{1,20})[\"”']?\s*\)|(?:referred\s+to\s+as|hereinafter)"
                        r"\s+[\"“](?P<b>[^\"”]{2,30})[\"”]")
    for n, line in enumerate(doc.lines, start=1):
        for m in quoted.finditer(line):
            alias = m.group("a") or m.group("b")
            if alias.lower() != payer.lower() and (alias.lower() == words[0] or _is_contraction(alias, words)
                                                   or payer.lower().startswith(alias.lower())):
                found.setdefault(alias, n)
        for token in re.findall(r"\b[A-Za-z][A-Za-z0-9]{1,15}\b", line):
            if (token.lower() not in words and (token.isupper() or re.search(r"[a-z][A-Z]", token))
                    and _is_contraction(token, words)):
                found.setdefault(token, n)
    return sorted(found.items(), key=lambda kv: kv[1])


def _fields(doc: Document) -> list[PolicyField]:
    facts = []
    for n, line in enumerate(doc.lines, start=1):
        if not (m := _FIELD_LINE.match(line)):
            continue
        label = m.group("name").strip()
        for name, pattern in _FIELDS:
            if re.fullmatch(pattern, label, re.I):
                value = m.group("value").strip()
                if name.endswith("date"):
                    value = parse_date(value) or value
                facts.append(PolicyField(source=doc.source_of_line(n), name=name, value=value))
                break
    return facts


def _skipped_lines(doc: Document) -> set[int]:
    """Lines of coding tables, history and references: they list codes and past positions, not current coverage."""
    skipped, skipping = set(), False
    for n, line in enumerate(doc.lines, start=1):
        if _SKIP_SECTIONS.match(line):
            skipping = True
        elif skipping and _READ_SECTIONS.match(line) and not re.search(r"\t|\d{4}", line) and len(line.split()) <= 6:
            skipping = False
        if skipping:
            skipped.add(n)
    return skipped


def _statements(doc: Document) -> list:
    facts, skipped = [], _skipped_lines(doc)
    for start, end in doc.sentences(within_lines=True):
        text = re.sub(r"\*\*|__", "", doc.flow[start:end]).strip()
        if "](" in text or len(text.split()) < 3 or doc.line_at(start) in skipped or _DISCLAIMER.search(text):
            continue  # links, fragments, tables, history and disclaimers are not statements
        src = doc.source_of_span(start, end)
        for category, pattern in _STATEMENTS:
            if (pattern.search(text) and len(text.split()) >= 5
                    and not re.search(r"\b(?:may|might|could)\s+result\b", text, re.I)):
                scope = "other-indications" if _OTHER_INDICATIONS.search(text) else "all"
                facts.append(CoverageStatement(source=src, category=category, text=text, scope=scope))
                break
        if _PA.search(text):
            facts.append(PriorAuthorization(source=src, required=not _PA_NEGATED.search(text), text=text))
        if _NO_NCD.search(text):
            facts.append(Statement(source=src, topic="no-ncd", text=text))
    return facts


def _lists_after(doc: Document, line: int) -> list[tuple[int, str]]:
    """The list items that follow a line (blank lines allowed between items)."""
    items, n = [], line + 1
    while n <= len(doc.lines):
        text = doc.lines[n - 1]
        if m := _LIST_ITEM.match(text):
            items.append((n, m.group("text").strip()))
        elif items and text.strip() and (text[:1].isspace() or text.strip()[:1].islower()) \
                and doc.lines[n - 2].strip():
            items[-1] = (items[-1][0], f"{items[-1][1]} {text.strip()}")  # an item wrapped over two lines
        elif text.strip() and (items or n > line + 2):
            break
        n += 1
    return items


def _wrapped(doc: Document, n: int) -> int:
    """How many continuation lines follow list item line n."""
    k = 0
    while n + k < len(doc.lines) and doc.lines[n + k].strip() and not _LIST_ITEM.match(doc.lines[n + k]) \
            and (doc.lines[n + k][:1].isspace() or doc.lines[n + k].strip()[:1].islower()):
        k += 1
    return k


def _criteria_and_requirements(doc: Document, facts: list) -> list:
    out = []
    for fact in list(facts):
        if isinstance(fact, CoverageStatement) and fact.category == "covered-with-criteria":
            out += [Criterion(source=doc.source_of_line(n, n + _wrapped(doc, n)), text=t)
                    for n, t in _lists_after(doc, fact.source.end_line)]
    for i, fact in enumerate(facts):
        if isinstance(fact, PriorAuthorization) and fact.required:
            items = tuple(t for _, t in _lists_after(doc, fact.source.end_line))
            if items:
                facts[i] = PriorAuthorization(source=fact.source, required=True, text=fact.text, items=items)
    return out


def _governed_codes(doc: Document) -> list[GovernedCode]:
    start = next((n for n, ln in enumerate(doc.lines, start=1)
                  if re.match(r"^\s*#*\s*(?:coding\s+information|codes|coding|applicable\s+codes|billing\s+codes)\s*$",
                              ln, re.I)), None)
    if start is None:
        return []
    facts, system = [], CPT
    for n in range(start + 1, len(doc.lines) + 1):
        line = doc.lines[n - 1]
        if re.match(r"^\s*#*\s*(references|change\s+summary|policy\s+history|bibliography)\b", line, re.I):
            break
        if (m := _CODE_ROW.match(line)) and not re.search(r"code\(?s?\)?\s*$", line.split("\t")[0], re.I):
            code = m.group("code").upper()
            row_system = ICD10CM if re.fullmatch(ICD10_CODE, code) and not re.fullmatch(CPT_CODE, code) else system
            if row_system == CPT and re.fullmatch(HCPCS_CODE, code):
                row_system = HCPCS
            cells = [c.strip() for c in re.split(r"\t+|\s\|\s", m.group("desc")) if c.strip()]
            if len(cells) > 1 and re.match(r"(?:CPT|HCPCS|ICD-?10)", cells[0], re.I):  # a code-type column
                row_system = next((s for pattern, s in _SECTION_SYSTEMS if pattern.search(cells[0])), row_system)
                cells = cells[1:]
            desc = cells[0] if cells else ""
            facts.append(GovernedCode(source=doc.source_of_line(n), system=row_system, code=code, description=desc))
        elif "code" in line.lower():
            system = next((s for pattern, s in _SECTION_SYSTEMS if pattern.search(line)), system)
    return facts


def read_policy(doc: Document) -> tuple[str, list]:
    payer = _payer(doc)
    fields = _fields(doc)
    if payer is None:
        named = next((f for f in fields if f.name == "payer"), None)
        if named is None:
            raise BuildError("payer policy names no payer (no organisation name line or 'Payer:' field)", doc.name)
        payer = (named.value, named.source.line)
    name, line = payer
    facts = [PolicyField(source=doc.source_of_line(line), name="payer", value=name)]
    facts += [f for f in fields if f.name != "payer"]
    facts += [PolicyField(source=doc.source_of_line(n), name="alias", value=a) for a, n in _aliases(doc, name)]
    title_line = next((n for n, ln in enumerate(doc.lines, start=1) if ln.strip() and n != line
                       and not _BANNER.match(ln.strip().strip("#* "))), 1)
    title = doc.lines[title_line - 1].strip().strip("#* ")
    facts.append(PolicyField(source=doc.source_of_line(title_line), name="title", value=title))
    if m := re.search(r"^\s*(?P<p>[A-Z][\w ]{2,60}?)\s+(?:Medical\s+)?Coverage\s+Policy\s*$", "\n".join(doc.lines), re.M):
        n = "\n".join(doc.lines)[: m.start("p")].count("\n") + 1
        if m.group("p").strip().lower() not in ("medical", "clinical", "payment", "pharmacy"):
            facts.append(PolicyField(source=doc.source_of_line(n), name="product", value=m.group("p").strip()))
    statements = _statements(doc)
    criteria = _criteria_and_requirements(doc, statements)
    facts += statements + criteria
    facts += _governed_codes(doc) + read_not_reported_with(doc)
    if not any(isinstance(f, CoverageStatement) for f in facts):
        raise BuildError("payer policy has no coverage statement (covered, not covered, investigational)", doc.name)
    return title, facts
