"""Which payer a document speaks for, and the other names it gives it: the payer directory (data/payers.json) and the
places a document names its payer (a header, 'Aetna considers', 'Humana members', 'administered or underwritten by
...', a copyright line), for payers the directory knows and for those it does not."""

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from fhir_ire.facts import PolicyField, Source
from fhir_ire.names import name_key
from fhir_ire.sources.aliases import legal_names, named_aliases, plans_named, short_forms
from fhir_ire.sources.directory import NAME, ORG_WORDS, alternatives, clean_name, directory
from fhir_ire.sources.layout import Layout

@dataclass
class Candidate:
    name: str
    source: Source
    weight: int


@lru_cache(maxsize=1)
def _cue_patterns():
    cues = directory().cues
    header = re.compile(rf"^(?P<name>{NAME}?)\s+(?:(?P<lob>Commercial|Medicare Advantage|Medicare|Medicaid)\s+)?"
                        rf"(?:{alternatives(cues['header_words'])})\b(?:\s*-\s*(?P<region>[A-Z][A-Za-z ]+))?", re.I)
    agent = re.compile(rf"(?P<name>{NAME})(?:'s)?(?:\s+\([A-Z]{{2,6}}\))?\s+(?i:{alternatives(cues['agent_words'])})\b")
    applies = re.compile(rf"(?i:{alternatives(cues['applies_words'])})\s+(?P<name>{NAME})")
    copyright = re.compile(rf"(?:©|\(c\)|Copyright)\s*(?:©\s*)?(?:(?:\d{{4}}\s*[-,]?\s*)+(?P<name>{NAME})"
                           rf"|(?P<before>{NAME})\s+\d{{4}}\b)")
    owner = re.compile(rf"(?P<name>{NAME})(?:\s+\([^()]{{1,40}}\))?(?:\s+[a-z]+){{1,4}}\s+its\s+"
                       rf"(?i:{alternatives(cues['owner_words'])})\b")
    return header, agent, applies, copyright, owner


def candidates(layout: Layout, kind: str) -> list[Candidate]:
    """Names the document gives its payer, each with how strongly where it stands says it is the payer."""
    d, (header, agent, applies, copyright, owner) = directory(), _cue_patterns()
    found: list[Candidate] = []
    blocks = [b for b in layout.blocks if b.kind != "table"]
    for n, b in enumerate(blocks):
        text, where = b.clean, b.text
        if kind == "payer-policy" and n < 3 and b.kind in ("heading", "paragraph", "field"):
            after = blocks[n + 1] if n + 1 < len(blocks) else None
            if b.kind == "heading" and after is not None and after.kind == "heading" and len(text) < 60 \
                    and (m := header.fullmatch(f"{text} {after.clean}")) and m.end("name") <= len(text) \
                    and m.group("name") and not d.is_generic(m.group("name")):
                # the payer's name over a heading of header words alone ('PacificSource Health Plans' / 'Medical
                # Policy')
                found.append(Candidate(clean_name(m.group("name")), where.source(m.start("name"), m.end("name")), 6))
            elif (m := header.match(text)) and m.group("name") and not d.is_generic(m.group("name")):
                found.append(Candidate(clean_name(m.group("name")), where.source(m.start("name"), m.end("name")), 6))
            for a, z, entry in d.find(text[:120]):
                if a < 3 or entry is not None:
                    found.append(Candidate(clean_name(text[a:z]), where.source(a, z), 6 if a < 3 else 2))
            bare = re.sub(rf"\b(?:{alternatives(d.cues['header_words'])})\b", "", text, flags=re.I).strip(" -:|")
            if b.kind == "heading" and text.isupper() and ORG_WORDS.search(bare) and len(bare.split()) >= 2:
                found.append(Candidate(clean_name(text), where.source(), 5))
        if b.kind == "field" and b.label and _payer_label().fullmatch(b.label):
            found.append(Candidate(clean_name(b.value.clean), b.value.source(), 10))
        for rx, weight in ((agent, 3), (owner, 3), (applies, 5), (copyright, 4 if kind == "payer-policy" else 0)):
            for m in rx.finditer(text):
                group = "before" if m.groupdict().get("before") else "name"
                name = m.group(group)
                if d.is_generic(name):
                    continue  # 'Medicare Advantage members', 'Commercial members': a line of business, not a payer
                for a, z, entry in d.find(name):
                    found.append(Candidate(clean_name(name[a:z]), where.source(m.start(group) + a,
                                                                                m.start(group) + z), weight))
                if not any(True for _ in d.find(name)) and kind == "payer-policy" and weight:
                    # a name the directory does not know: a statement of whose policy it is counts in full, a verb
                    # it does ('X uses', 'X may alter') less
                    found.append(Candidate(clean_name(name), where.source(m.start(group), m.end(group)),
                                           weight if rx is applies else 2))
        if kind == "payer-policy":
            for a, z, entry in d.find(text):
                if entry is not None:
                    found.append(Candidate(clean_name(text[a:z]), where.source(a, z), 1))
    if kind != "payer-policy":
        found += _site_header(layout)
    flow = " ".join(b.clean for b in layout.blocks)
    found += _repeated(layout, found)
    return [c for c in found if c.weight and not d.is_generic(c.name) and len(c.name) > 2
            and (d.lookup(c.name) is not None or c.weight >= 5 or _is_proper_name(c.name, flow))]


@lru_cache(maxsize=1)
def _payer_label() -> re.Pattern:
    return re.compile(rf"(?i:{alternatives(directory().cues['payer_labels'])})")


def _site_header(layout: Layout) -> list[Candidate]:
    """A guide or notice on a payer's own site: a payer the directory knows opening the site's header line or
    breadcrumb ('Palmetto GBA > Jurisdiction J Part B > ...', 'WPS Government Health Administrators | Medicare') is the
    payer whose notice it is. Not a government program (a program's name opens many guides' titles: 'Medicare
    payment ...'), and a device maker or coding site is not in the directory, so a publisher is never read as a
    payer."""
    d, out = directory(), []
    for b in layout.blocks[:2]:
        for a, z, entry in d.find(b.clean[:120]):
            if a < 3 and entry is not None and entry.get("kind") != "government":
                out.append(Candidate(clean_name(b.clean[a:z]), b.text.source(a, z), 6))
    return out


def _repeated(layout: Layout, found: list[Candidate]) -> list[Candidate]:
    """Further mentions of a name the directory does not know that the document already uses as a payer's (a
    copyright line, 'X covers ...'): each counts a little, up to three ('Geisinger Health Plan' in the header, the
    footer and the text)."""
    d, out = directory(), []
    for name in {c.name for c in found if c.weight >= 2 and d.lookup(c.name) is None and len(c.name.split()) >= 2}:
        rx = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        seen = {(c.source.line, c.name) for c in found}
        for b in layout.blocks:
            for m in rx.finditer(b.clean):
                if (b.text.line_at(b.text.raw_span(m.start(), m.end())[0]), name) not in seen and len(out) < 3:
                    out.append(Candidate(name, b.text.source(m.start(), m.end()), 1))
    return out


def _is_proper_name(name: str, flow: str) -> bool:
    """A name the directory does not know is a payer's only if it reads as a proper name: not a word the text also
    writes in lower case ('The', 'Under'), not a procedure's abbreviation ('RFA')."""
    from fhir_ire.sources.procedures import describe

    first = name.split()[0]
    if len(name.split()) >= 2 and ORG_WORDS.search(name):
        return True
    return len(name) >= 4 and not re.search(rf"\b{re.escape(first.lower())}\b", flow) and not describe(name)


def choose(found: list[Candidate]) -> tuple[str, Source, list[Candidate]] | None:
    """The payer: a name the header or a field gives wins over names in the text; among names in the text, the one
    the document makes act as the payer ('Aetna considers') most. A bare mention never names the payer alone (a
    policy mentions programs and other payers)."""
    d = directory()
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for c in found:
        entry = d.lookup(c.name)
        groups[entry["name"] if entry else name_key(c.name)].append(c)
    strong = {k: g for k, g in groups.items() if max(c.weight for c in g) >= 5}
    pool = strong or {k: g for k, g in groups.items() if max(c.weight for c in g) >= 2}
    scored = sorted(pool.items(), key=lambda kv: (-sum(c.weight for c in kv[1]), -len(kv[1]), kv[0]))
    for _, group in scored:
        total = sum(c.weight for c in group)
        known = d.lookup(group[0].name) is not None
        if total >= 3 and (known or total >= 5 or len(group) >= 2):
            plan = _narrower(groups, group)
            entry = d.lookup(plan[0].name)
            # the brand heading the document of one of its regional plans is another name of that plan here
            brand = [c for c in groups.get(entry.get("parent"), []) if c.weight >= 5] if entry else []
            headers = [c for c in plan if c.weight >= 5]  # a header or a field names the payer as it calls itself
            # a header's or a field's name, unless the document also writes the directory's name of the payer and
            # that is another name, not another spelling ('Medical Mutual' over 'Medical Mutual of Ohio')
            fuller = [c for c in plan if entry and c.name == entry["name"]
                      and not any(name_key(h.name) == name_key(c.name) for h in headers)]
            best = max(fuller or headers or plan, key=lambda c: (c.weight if headers and not fuller else 0,
                                                                 len(c.name), -c.source.line))
            return best.name, best.source, plan + brand
    return None


def _narrower(groups: dict[str, list[Candidate]], group: list[Candidate]) -> list[Candidate]:
    """A regional plan of the payer chosen (a child in the directory) that the document also makes act as the payer
    ('For Kaiser Permanente Washington members only', a header) is the payer: the policy is that plan's, and a
    member of another region must not match it. Several such plans leave the brand the payer."""
    d = directory()
    entry = d.lookup(group[0].name)
    if entry is None:
        return group
    plans = [g for g in groups.values() if (e := d.lookup(g[0].name)) is not None and e.get("parent") == entry["name"]
             and sum(c.weight for c in g) >= 3]
    return plans[0] if len(plans) == 1 else group


def payer_fields(layout: Layout, kind: str) -> list[PolicyField]:
    """The payer field and its aliases (other names of the same payer the document uses)."""
    chosen = choose(candidates(layout, kind))
    if chosen is None:
        return []
    name, source, group = chosen
    facts = [PolicyField(source=source, name="payer", value=name)]
    aliases: dict[str, Source] = {}
    for c in sorted(group, key=lambda c: (c.source.line, c.name)):
        aliases.setdefault(c.name, c.source)
    for alias, src in named_aliases(layout, name) + short_forms(layout, name) + plans_named(layout, name) \
            + legal_names(layout, name):
        aliases.setdefault(alias, src)
    return facts + [PolicyField(source=s, name="alias", value=a) for a, s in aliases.items()
                    if a.lower() != name.lower()]


