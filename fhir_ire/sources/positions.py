"""Coverage positions: each sentence that names a procedure and takes a position on it (fhir_ire/data/coverage.json),
with its category and scope, the criteria listed after it, the codes it names or that follow it; and prior
authorization statements, with their negations. A sentence with no procedure is not a position: boilerplate about
benefits and disclaimers never becomes a coverage answer."""

import re
from dataclasses import dataclass, field

from fhir_ire.facts import CoverageStatement, Criterion, PriorAuthorization, Source
from fhir_ire.sources.code_lists import CODE_LEAD, CODES_REF, code_rows, codes_after, codes_before, codes_in
from fhir_ire.sources.layout import Block, Layout
from fhir_ire.sources.procedures import Procedure, meaning, vocabulary
from fhir_ire.sources.text import sentences
from fhir_ire.sources.wording import Vocabulary, coverage_vocabulary

@dataclass
class Position:
    block: int
    start: int
    end: int
    category: str
    scope: str
    procedure: Procedure
    codes: list[str] = field(default_factory=list)
    criteria: list[Block] = field(default_factory=list)
    count: int | None = None
    announced: bool = False
    prior_auth: bool | None = None
    phrase: str = ""  # the procedure as the text names it


def _clause(text: str, start: int, end: int, match_end: int, openers) -> tuple[int, int]:
    """The subordinate clause a position is stated in ('Because X consider Y investigational, do Z' -> 'X ... Y')."""
    head = text[start:end]
    first = head.split(" ", 1)[0].lower()
    comma = head.find(", ", match_end - start)
    if first in openers and comma > 0:
        return start + len(first) + 1, start + comma
    return start, end


def _subject(vocab: Vocabulary, procs, text: str, hit) -> tuple[Procedure, str]:
    """(the procedure a position is on, the words that name it): the modalities named before its condition when
    there are any; one named only after 'when', 'if', ... is part of a criterion ('Microwave ablation ... is medically
    necessary when the criteria for radiofrequency ablation are met')."""
    proc = procs.describe(text)
    cond = vocab.conditions.search(text, hit[1].end()) if hit is not None else None
    if cond is None or len(proc.modalities) < 2:
        return proc, text
    head = procs.describe(text[:cond.start()])
    if not head.modalities or head.modalities == proc.modalities:
        return proc, text
    return Procedure(head.modalities, proc.sites, proc.approaches, proc.classes), text[:cond.start()]


def _category(vocab: Vocabulary, text: str, matched: str, match: re.Match) -> str:
    if matched != "covered":
        return matched
    return "covered-with-criteria" if vocab.conditions.search(text) or text.rstrip().endswith(":") else "covered"


def _scope(vocab: Vocabulary, text: str) -> str:
    for scope, rx in vocab.scope:
        if rx.search(text):
            return scope
    return "all"


def find_positions(layout: Layout, subject: Procedure, skip_sections: re.Pattern) -> list[Position]:
    """The positions the document takes, in document order, with their criteria and the codes that follow them."""
    vocab, procs = coverage_vocabulary(), vocabulary()
    blocks = layout.blocks
    found: list[Position] = []
    listed: dict[int, str] = {}  # list items under a lead-in that takes a position on each: their category
    last: Procedure = subject
    last_phrase = ""
    superseded = False  # under a lead-in to the wording an amendment replaces
    for k, b in enumerate(blocks):
        if b.kind == "heading" or b.clean.rstrip().endswith(":") and b.kind != "item":
            superseded = bool(vocab.superseded.search(b.clean)) and b.clean.rstrip().endswith(":")
            if superseded:
                continue
        if superseded or b.kind not in ("paragraph", "item") or skip_sections.search(b.section or ""):
            if b.kind == "heading" and procs.describe(b.clean):
                last = procs.describe(b.clean) if procs.describe(b.clean).modalities else last
            continue
        if k in listed and vocab.category(b.clean) is None:
            own = procs.describe(b.clean)
            proc = own if own else Procedure(last.modalities, own.sites or last.sites, own.approaches or
                                             last.approaches, last.classes) if procs.refers_back(b.clean) else None
            if proc:
                found.append(Position(k, 0, len(b.clean), listed[k], _scope(vocab, b.clean), proc, codes_in(b.clean),
                                      phrase=procs.phrase(b.clean) or last_phrase))
                continue
        spans = sentences(b.clean)
        for n, (a, z) in enumerate(spans):
            text = b.clean[a:z]
            hit = vocab.category(text)
            pa = vocab.prior_auth(text)
            if pa is None and hit is None and vocab.pa_terms.fullmatch(b.section.strip(" :")):
                pa = vocab.prior_auth(f"{b.section}: {text}")  # 'Not required for 19105' under its heading
            if (hit is None and pa is None) or vocab.not_statements.search(text) or text.rstrip().endswith("?"):
                continue  # a question ('Is IRE covered for pancreatic cancer?') takes no position
            proc, named = _subject(vocab, procs, text, hit)
            codes = codes_in(text)
            meant = " ".join(meaning(c) for c in codes) if codes and not proc.modalities else ""
            if meant.strip():  # 'Procedure code 19105 will be a benefit ...': about what its codes are about
                proc = procs.describe(meant).with_sites(proc.sites)
            if not proc and not codes:
                own = proc
                if pa is not None and hit is None and CODES_REF.search(text) and (rows := codes_before(blocks, k)):
                    # 'Both codes continue to require prior authorization': the codes listed above, on what they
                    # are about
                    proc = procs.describe(" ".join(meaning(c, d) for c, d in rows))
                    named, codes = " ".join(d for _, d in rows), [c for c, _ in rows]
                elif pa is True and hit is None:
                    proc = last  # prior authorization for what the policy is about (never 'not required' for a
                    # sentence that does not name the procedure: it may be about a visit)
                elif procs.refers_back(text) and last:
                    proc = last
                elif hit is not None and CODE_LEAD.search(text) and (rows := code_rows(blocks, k + 1)):
                    # 'The following procedure codes remain noncovered services.' over a code table: a position on
                    # what the codes are about
                    proc = procs.describe(" ".join(meaning(c, d) for c, d in rows))
                    named = " ".join(d for _, d in rows)
                else:
                    _restate(vocab, found, k, a, text, hit)
                    if hit is not None and hit[0] != "covered" and n == len(spans) - 1 and text.rstrip().endswith(":"):
                        # 'Oscar considers the following investigational:' over a list of procedures: each item
                        # that names one is a position in the category of the lead-in
                        listed.update(dict.fromkeys(_items_after(blocks, k + 1, b)[0], hit[0]))
                    continue
                # the procedure named before, on the body sites this sentence names ('... ablation of kidney tumors')
                proc = Procedure(proc.modalities, own.sites or proc.sites, own.approaches or proc.approaches,
                                 proc.classes)
            if proc.modalities:
                last, last_phrase = proc, procs.phrase(named)
            if hit is not None:
                a, z = _clause(b.clean, a, z, a + hit[1].end(), vocab.openers)
            pos = Position(k, a, z, _category(vocab, text, *hit) if hit else "", _scope(vocab, text), proc, codes,
                           prior_auth=pa,
                           phrase=(procs.phrase(meant) if meant.strip() else procs.phrase(named)) or last_phrase)
            pos.announced = text.rstrip().endswith(":") or bool(vocab.announce.search(text))
            found.append(pos)
        mine = [p for p in found if p.block == k]
        if mine and spans:
            # the list after a block belongs to its last position ('Prior authorization is required. The request
            # must include:'), whether the lead-in is the position's own sentence or the one after it
            tail = b.clean[spans[-1][0]:spans[-1][1]]
            _criteria(vocab, layout, mine[-1], tail if tail.rstrip().endswith(":") else
                      b.clean[mine[-1].start:mine[-1].end])
        if b.kind == "item" and b.clean.rstrip().endswith(":") and found and found[-1].block < k \
                and found[-1].category.startswith("covered") and vocab.announce.search(b.clean) \
                and "criteria" in b.clean.lower() and not any(p.block == k for p in found):
            # a list item that announces its own criteria ('Cryoablation of a renal mass, when any of the following
            # criteria is met:') is a position of its own, in the category of the list it belongs to
            parent = found[-1]
            own = procs.describe(b.clean)
            pos = Position(k, 0, len(b.clean), parent.category, "all",
                           own if own.modalities else parent.procedure.with_sites(own.sites), codes_in(b.clean),
                           phrase=procs.phrase(b.clean) if own.modalities else
                           f"{parent.phrase.split(';')[0]}; {procs.phrase(b.clean).lstrip('; ')}".rstrip("; "),
                           announced=True)
            _criteria(vocab, layout, pos, b.clean)
            found.append(pos)
    codes_after(layout, found)
    return _merge(layout, found)


def _items_after(blocks: list[Block], start: int, base: Block) -> tuple[list[int], int]:
    """(the items of the list starting at block start, at the list's first level; the block after the list). Nested
    items belong to the item above them; a list under an item (base) holds only the items nested under it."""
    out, top, j = [], None, start
    while j < len(blocks) and blocks[j].kind == "item":
        item = blocks[j]
        if base.kind == "item" and item.level <= base.level:
            break
        top = item.level if top is None else top
        if item.level < top:
            break
        if item.level == top:
            out.append(j)
        j += 1
    return out, j


def _restate(vocab: Vocabulary, found: list[Position], block: int, start: int, text: str, hit):
    """'X is not covered. It is considered investigational.': a sentence that opens with a word for what was just
    said and names no procedure tells the category of the position right before it, in the same paragraph; only
    ever from not covered to investigational (both deny; the second says why)."""
    if hit is None or not found or not vocab.restating.match(text):
        return
    prev = found[-1]
    if prev.block == block and prev.end <= start and hit[0] == "investigational" and prev.category == "not-covered":
        prev.category = "investigational"


def _criteria(vocab: Vocabulary, layout: Layout, pos: Position, text: str):
    """The list items after a position that announces them; their number, or None when the list is cut off."""
    blocks = layout.blocks
    base = blocks[pos.block]
    j = pos.block + 1
    if j < len(blocks) and blocks[j].kind == "paragraph" and blocks[j].clean.endswith(":") \
            and vocab.category(blocks[j].clean) is None and pos.announced:
        j += 1  # a second lead-in ('Patient Selection Criteria ... if any of the following criteria are met:')
    listed, j = _items_after(blocks, j, base)
    items = [blocks[i] for i in listed]
    if not items and not pos.announced:
        if layout.truncated and pos.block == len(blocks) - 1 and not text.rstrip().endswith((".", "?", "!")):
            pos.announced = True  # the position's own sentence is cut: what it requires is lost
        return
    pos.criteria = items
    last_text = (items[-1].clean if items else "").rstrip()
    cut = bool(items) and (last_text.lower().endswith(vocab.continues) or (layout.truncated and j >= len(blocks)))
    counted = next((n for w, n in vocab.counts.items() if re.search(rf"\b{w}\b", text, re.I)), None)
    pos.count = None if (cut or not items) and counted is None else counted if (cut or not items) else len(items)
    if items and not pos.announced:
        pos.announced = True


def _merge(layout: Layout, found: list[Position]) -> list[Position]:
    """One position per thing said: a later sentence of the same section that restates an earlier position (same
    category, scope and procedure) adds nothing."""
    out, seen = [], {}
    for p in found:
        key = (layout.blocks[p.block].section, p.category, p.scope, p.procedure.modalities, p.procedure.sites,
               p.procedure.classes, p.prior_auth)
        lead = CODE_LEAD.match(layout.blocks[p.block].clean[p.start:p.end])
        earlier = next((q for q in out if q.category == p.category and (
            q.procedure.modalities == p.procedure.modalities if p.procedure.modalities else
            q.procedure.classes == p.procedure.classes and not q.procedure.modalities)), None) if lead else None
        first = seen.get(key) if p.category else None
        if first is None and earlier is not None:
            first = earlier  # 'The following Category III CPT codes are non-covered.' over the code table restates
            # the position taken on the class in another section
        if first is not None:
            first.codes += [c for c in p.codes if c not in first.codes]
            continue
        seen[key] = p
        out.append(p)
    return out


def position_facts(layout: Layout, positions: list[Position], codes_system) -> list:
    """CoverageStatement, PriorAuthorization and Criterion facts of the positions."""
    facts = []
    for p in positions:
        b = layout.blocks[p.block]
        src: Source = b.text.source(p.start, p.end)
        text = b.clean[p.start:p.end].strip()
        codes = tuple((codes_system(c), c) for c in p.codes)
        if p.category:
            facts.append(CoverageStatement(source=src, category=p.category, text=text, scope=p.scope,
                                           procedure=p.phrase or p.procedure.label(), codes=codes, criteria=p.count,
                                           criteria_announced=p.announced))
        if p.prior_auth is not None:
            items = tuple(i.clean for i in p.criteria) if p.prior_auth and not p.category else ()
            facts.append(PriorAuthorization(source=src, required=p.prior_auth, text=text, items=items,
                                            procedure=p.phrase or p.procedure.label(), codes=codes))
        if p.category.startswith("covered"):
            facts += [Criterion(source=i.text.source(), text=i.clean) for i in p.criteria]
    return facts
