"""Payer coverage policies: payer and aliases, number, title, line of business, dates, the positions the policy takes
(per procedure, with criteria and prior authorization), the codes it governs and which positions they belong to,
and "no NCD/LCD" statements. Whatever the policy does not say is reported as missing, never guessed."""

import re
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.facts import CodeMention, CoverageStatement, GovernedCode, PolicyField, Statement
from fhir_ire.sources.codes import CodeEntry, find_codes, system_of
from fhir_ire.sources.document import Document
from fhir_ire.sources.fields import read_fields
from fhir_ire.sources.layout import Layout
from fhir_ire.sources.numbers import number_without_field
from fhir_ire.sources.payers import payer_fields
from fhir_ire.sources.positions import coverage_vocabulary, find_positions, position_facts
from fhir_ire.sources.procedures import Procedure, describe, meaning, vocabulary
from fhir_ire.sources.text import sentences
from fhir_ire.uris import CPT, HCPCS

_NO_NCD = re.compile(r"\bno\s+(?:NCDs?|LCDs?|LCAs?|national\s+coverage\s+determination)", re.I)
_REPORTING = re.compile(r"\b(?:report(?:ed|ing|s)?|bill(?:ed|ing|s)?|use\s+(?:code|cpt)|codes?\s+for|coded)\b", re.I)
_NOT_GOVERNED = re.compile(r"\b(?:does\s+not\s+address|not\s+addressed|reviewed\s+under|see\s+policy|refer\s+to)\b", re.I)
_COVERED_CELL = re.compile(r"^\s*(?:covered|yes|medically necessary)\b(?!\s+(?:not|only))", re.I)
_BANNER = re.compile(r"^(?:[A-Za-z]+\s+){0,3}(?:coverage|medical|clinical|payment)\s+(?:policy|guideline|bulletin)"
                     r"(?:\s+manual)?$|^(?:asset publisher|home|print|table of contents)$", re.I)


@lru_cache(maxsize=1)
def _skip_sections() -> re.Pattern:
    names = load("coverage.json")["not_position_sections"]["names"]
    return re.compile(rf"^(?:{'|'.join(re.escape(n) for n in names)})[\s:/|]*$", re.I)


@lru_cache(maxsize=1)
def _lob_words() -> re.Pattern:
    data = load("lines-of-business.json")
    words = sorted({p for line in data["lines"] for p in line["patterns"]}, key=len, reverse=True)
    return re.compile(rf"\b(?:{'|'.join(re.escape(w) for w in words)})\b", re.I)


def _title(layout: Layout, fields: list[PolicyField], payer: str | None) -> PolicyField | None:
    named = next((f for f in fields if f.name == "title"), None)
    if named:
        return named
    for b in layout.blocks:
        text = b.clean.rstrip(":")
        if b.kind in ("heading", "paragraph") and len(text.split()) >= 2 and not _BANNER.match(text) \
                and not (payer and text.lower().startswith(payer.lower()) and len(text) <= len(payer) + 25) \
                and describe(text).modalities | describe(text).sites:
            return PolicyField(source=b.text.source(), name="title", value=text)
    first = next((b for b in layout.blocks if b.kind == "heading" and not _BANNER.match(b.clean)), None)
    return PolicyField(source=first.text.source(), name="title", value=first.clean.rstrip(":")) if first else None


def _products(layout: Layout, payer: str | None) -> list[PolicyField]:
    """Lines of business the header or title names ('HIGHMARK COMMERCIAL MEDICAL POLICY', '... - Medicare Advantage
    Form', 'Medicare Advantage Medical Coverage Policy'), and 'applies to all products ...' statements."""
    facts, heads = [], [b for b in layout.blocks[:12] if b.kind == "heading"][:4]
    for b in heads:
        for m in _lob_words().finditer(b.clean):
            value = m.group(0)
            wide = re.match(rf"{re.escape(value)}(?:\s+Advantage)?", b.clean[m.start():], re.I)
            value = wide.group(0) if wide else value
            facts.append(PolicyField(source=b.text.source(m.start(), m.start() + len(value)), name="product",
                                     value=value.title() if value.isupper() else value))
            break
    all_products = load("lines-of-business.json")["all_products"]["patterns"]
    for b in layout.blocks:
        head = b.clean if b.kind == "heading" else b.label if b.kind == "field" else ""
        if head and b not in heads and _LOB_HEAD.search(head) and _lob_words().search(head) \
                and len(head.split()) <= 12:
            # a section per line of business ('MEDICAID POLICY', 'Commercial Members: ...', 'Medicare HMO Blue and
            # Medicare PPO Blue Members')
            value = head.title() if head.isupper() else head
            source = b.text.source() if b.kind == "heading" else b.text.source(0, len(head))
            facts.append(PolicyField(source=source, name="product", value=value))
        for a, z in sentences(b.clean):
            text = b.clean[a:z]
            if (any(p in text.lower() for p in all_products) and _APPLIES.search(text)) or (
                    _POLICY_APPLIES.search(text) and _lob_words().search(text)) or _members_of(text):
                facts.append(PolicyField(source=b.text.source(a, z), name="line-of-business", value=text))
    return facts


def _members_of(text: str) -> bool:
    """A position or a policy statement made for the members of lines of business ('... is not a covered benefit for
    Commercial or Medicare Advantage members', 'Turquoise Care (Medicaid) members follow the same policy')."""
    if not (coverage_vocabulary().category(text) or re.search(r"\bpolicy\b", text, re.I)):
        return False
    return any(re.match(r"\)?(?:\s*\([^()]*\))?\s+(?:members|enrollees)\b", text[m.end():])
               for m in _lob_words().finditer(text))


_APPLIES = re.compile(r"administer|underwrit|offer|insure|\bappl(?:y|ies)\s+to\b", re.I)
_POLICY_APPLIES = re.compile(r"\b(?:policy|guideline|document|changes|updates?)\s+(?:also\s+|only\s+)?"
                             r"appl(?:y|ies)\s+to\b|\btakes?\s+effect\b.{0,80}?\bfor\b", re.I)
_LOB_HEAD = re.compile(r"\b(?:plan\s+)?(?:policy|members)\s*:?$", re.I)


def _governs(e: CodeEntry) -> bool:
    if e.where in ("field", "table", "line"):
        return True
    return bool(_REPORTING.search(e.sentence) and not _NOT_GOVERNED.search(e.sentence))


def _link_codes(layout: Layout, positions, entries: list[CodeEntry]):
    """Codes the policy lists apart from its positions go to the positions they belong to: all of them when the
    policy takes positions on one procedure only; else by the coverage the list is headed with ('Medically Necessary
    when criteria are met:') or by the modality of the code's descriptor."""
    vocab = coverage_vocabulary()
    attached = {c for p in positions if p.category for c in p.codes}  # a prior-authorization sentence's codes
    # still go to the coverage positions they belong to
    loose = [e for e in entries if e.system in (CPT, HCPCS) and e.code not in attached]
    if not loose or not positions:
        return
    modalities = {m for p in positions for m in p.procedure.modalities}
    claimed = {m for e in loose for m in describe(meaning(e.code, e.description)).modalities}
    # a prior-authorization statement that names no modality, on the site of a covered position, takes its codes
    # from the positions it serves (_share_codes)
    named = [p for p in positions if describe(layout.blocks[p.block].clean[p.start:p.end]).modalities
             or not any(q.category.startswith("covered") and _same_site([q], p.procedure.sites) for q in positions)]
    for e in loose:
        described = meaning(e.code, e.description)  # a code listed alone: what the code is about (data)
        # the row's own coverage cell ('Covered', 'Not covered (laser)'), else the lead-in the list stands under
        hit = vocab.category(e.cells) or (("covered", None) if _COVERED_CELL.match(e.cells) else None) \
            or vocab.category(e.context.split("|", 1)[-1])
        family = None if hit is None else ("covered" if hit[0] == "covered" else "not")
        targets = [p for p in positions if (family is None and (p.category or p in named)) or p.category and
                   (p.category.startswith("covered") if family == "covered" else not p.category.startswith("covered"))]
        # a note in the row that names the procedure ('Microwave ablation of a lung tumor; section 1') says what an
        # unlisted code is used for
        noted = describe(e.cells)
        if noted.modalities:
            described = f"{described} {e.cells}"
        if (family is None or noted.modalities) and len(modalities) > 1 and described:
            own = noted.modalities or describe(described).modalities
            if own:
                targets = [p for p in targets if p.procedure.modalities & own] or targets
            else:  # a code of no modality ('Unlisted procedure') serves the modalities no other code names
                targets = [p for p in targets if p.procedure.modalities and not p.procedure.modalities & claimed]
        elif family is not None and len({p.procedure.modalities for p in targets}) > 1 and described:
            own = describe(described).modalities  # 'Not covered' over positions on several modalities
            targets = [p for p in targets if p.procedure.modalities & own] or targets
        targets = _same_site(targets, describe(described).sites)
        targets = _same_lesion(layout, targets, vocabulary().lesions_of(described))
        targets = _same_approach(targets, describe(described).approaches)
        for p in targets:
            if e.code not in p.codes:
                p.codes.append(e.code)


def _same_lesion(layout: Layout, targets: list, lesions: frozenset) -> list:
    """A code for a benign lesion (a fibroadenoma) never goes to a position only on cancer, nor a code for a malignant
    tumor to a position only on benign lesions; a position that says neither takes both."""
    if not lesions:
        return targets
    return [p for p in targets if not (kinds := vocabulary().lesions_of(layout.blocks[p.block].clean[p.start:p.end]))
            or kinds & lesions]


def _same_approach(targets: list, approaches: frozenset) -> list:
    """An open code never goes to a position only on percutaneous ablation (nor the reverse); a position that names
    no approach takes codes of every approach."""
    if not approaches:
        return targets
    return [p for p in targets if not p.procedure.approaches or p.procedure.approaches & approaches]


def _share_codes(layout: Layout, positions):
    """A prior-authorization statement that lists no codes ('For services described in this policy,
    precertification IS REQUIRED ... if performed inpatient') governs the codes of the positions on the same
    procedure and site; one that names no modality ('Prior authorization is required for percutaneous ablation of a
    renal tumor') those of the positions that cover a procedure on its site, whatever the modality (prior
    authorization is asked for what may be covered)."""
    for p in positions:
        if p.category or p.prior_auth is None or p.codes or not (p.procedure.modalities or p.procedure.sites):
            continue
        covered = [q for q in positions if q.category.startswith("covered") and _same_site([q], p.procedure.sites)]
        if covered and not describe(layout.blocks[p.block].clean[p.start:p.end]).modalities:
            sources = covered
        else:
            sources = [q for q in positions if q.category and q.procedure.modalities & p.procedure.modalities
                       and _same_site([q], p.procedure.sites)]
        for q in sources:
            p.codes += [c for c in q.codes if c not in p.codes]


def _same_site(targets: list, sites: frozenset) -> list:
    """The positions a code of these body sites can belong to: those on the same site, else those that name no site
    ('Irreversible electroporation is investigational for all indications'); a lung code never goes to a position on
    the kidney and bone."""
    if not sites:
        return targets
    same = [p for p in targets if p.procedure.sites & sites]
    return same or [p for p in targets if not p.procedure.sites]


def read_policy(doc: Document, layout: Layout, known_payer: str | None = None) -> tuple[str, list, list[str]]:
    """(title, facts, what is missing) of a payer coverage policy."""
    fields = read_fields(layout)
    if not any(f.name == "number" for f in fields):
        fields += number_without_field(layout)
    payer = [] if known_payer else payer_fields(layout, "payer-policy")
    payer_name = known_payer or next((f.value for f in payer if f.name == "payer"), None)
    fields = [f for f in fields if f.name != "payer" or not payer]
    title = _title(layout, fields, payer_name)
    subject = describe(title.value) if title else Procedure()
    positions = find_positions(layout, subject, _skip_sections())
    entries = find_codes(layout)
    governed = [e for e in entries if _governs(e)]
    _link_codes(layout, positions, governed)
    _share_codes(layout, positions)
    facts = payer + [f for f in fields if f.name != "title"] + ([title] if title else []) + _products(layout,
                                                                                                      payer_name)
    facts += position_facts(layout, positions, system_of)
    seen = set()
    for e in governed + [e for e in entries if e not in governed]:  # a code the policy governs is governed
        if (e.system, e.code) in seen:
            continue
        seen.add((e.system, e.code))
        if e in governed:
            facts.append(GovernedCode(source=e.source, system=e.system, code=e.code, description=e.description))
        else:
            facts.append(CodeMention(source=e.source, system=e.system, code=e.code, description=e.description))
    for b in layout.blocks:
        for a, z in sentences(b.clean):
            if _NO_NCD.search(b.clean[a:z]):
                facts.append(Statement(source=b.text.source(a, z), topic="no-ncd", text=b.clean[a:z]))
    missing = []
    if not payer_name and not any(f.name == "payer" for f in fields):
        missing.append("payer")
    if not any(isinstance(f, CoverageStatement) for f in facts) and not any(p.prior_auth is not None
                                                                         for p in positions):
        missing.append("coverage position")
    if not any(isinstance(f, GovernedCode) and f.system in (CPT, HCPCS) for f in facts) \
            and not any(p.codes for p in positions):  # codes named in the positions ('(CPT codes 0600T, 0601T)')
        missing.append("codes")
    return (title.value if title else doc.name), facts, missing

