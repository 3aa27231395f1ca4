"""Which payer a document speaks for, and the other names it gives it: the payer directory (data/payers.json) and the
places a document names its payer (a header, 'Aetna considers', 'Humana members', 'administered or underwritten by
...', a copyright line), for payers the directory knows and for those it does not."""

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.facts import PolicyField, Source
from fhir_ire.names import name_key
from fhir_ire.sources.layout import Layout

_NAME = r"[A-Z][\w&.'-]*(?:[ ](?:of|and|&|[A-Z][\w&.'-]*))*"
_ORG_WORDS = re.compile(r"\b(?:HEALTH|PLAN|CARE|INSURANCE|MUTUAL|ASSURANCE|BLUE|CROSS|SHIELD|MEDICAL|COMPANY|INC|"
                        r"PARTNERS|COMMUNITY|HMO|NETWORK|HEALTHCARE)\b", re.I)


_LONGER = re.compile(r"(\s+(?:(?:and|&)\s+)?)(?:[A-Z][\w&.'-]*,?\s+){0,4}?(?:Company|Inc\b|Incorporated|Corporation"
                     r"|LLC)")


class Directory:
    def __init__(self, data: dict):
        # each state's program of a program run by the states ('Texas Medicaid'), a payer whose parent is the program
        self.entries = data["payers"] + [{"name": f"{place} {e['name']}", "kind": "state-program", "parent": e["name"],
                                          "role": "state program", "aliases": []}
                                         for e in data["payers"] if e.get("state_programs")
                                         for place in data["places"]["names"]]
        self.by_key: dict[str, dict] = {}
        for e in self.entries:
            for name in [e["name"], *e["aliases"]]:
                self.by_key.setdefault(name_key(name), e)
        self.generic = {name_key(n) for n in data["generic_names"]["names"]}
        names = sorted({n for e in self.entries for n in [e["name"], *e["aliases"]]}, key=len, reverse=True)
        self._names = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.I)
        self.places = sorted(data["places"]["names"], key=len, reverse=True)
        self.cues = data["cues"]
        self.identifier_types = data["identifier_types"]

    def lookup(self, name: str | None) -> dict | None:
        return self.by_key.get(name_key(name))

    def is_generic(self, name: str) -> bool:
        return name_key(name) in self.generic

    def find(self, text: str):
        """(start, end, directory entry) of the payer names in text, a place name after a brand included."""
        for m in self._names.finditer(text):
            if not m.group(0)[0].isupper():
                continue
            if len(m.group(0).split()) >= 2 and (more := _LONGER.match(text, m.end())) \
                    and not self._names.match(text, m.end() + len(more.group(1))):
                continue  # a name of several words that starts a longer company name ('Cigna Health and Life
                # Insurance Company') is not that name; a one-word brand ('Humana Insurance Company') still is
            end = m.end()
            for place in self.places:  # 'Anthem Blue Cross Connecticut', 'Kaiser Foundation Health Plan of Washington'
                for joint in (" ", " of "):
                    if text.startswith(joint + place, end) and not text[end + len(joint) + len(place):][:1].isalpha():
                        end += len(joint) + len(place)
                        break
                else:
                    continue
                break
            yield m.start(), end, self.lookup(text[m.start():end]) or self.lookup(m.group(0))


@lru_cache(maxsize=1)
def directory() -> Directory:
    return Directory(load("payers.json"))


@dataclass
class Candidate:
    name: str
    source: Source
    weight: int


def _words(items) -> str:
    return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))


@lru_cache(maxsize=1)
def _cue_patterns():
    cues = directory().cues
    header = re.compile(rf"^(?P<name>{_NAME}?)\s+(?:(?P<lob>Commercial|Medicare Advantage|Medicare|Medicaid)\s+)?"
                        rf"(?:{_words(cues['header_words'])})\b(?:\s*-\s*(?P<region>[A-Z][A-Za-z ]+))?", re.I)
    agent = re.compile(rf"(?P<name>{_NAME})(?:'s)?\s+(?i:{_words(cues['agent_words'])})\b")
    applies = re.compile(rf"(?i:{_words(cues['applies_words'])})\s+(?P<name>{_NAME})")
    copyright = re.compile(rf"(?:©|\(c\)|Copyright)\s*(?:©\s*)?(?:(?:\d{{4}}\s*[-,]?\s*)+(?P<name>{_NAME})"
                           rf"|(?P<before>{_NAME})\s+\d{{4}}\b)")
    owner = re.compile(rf"(?P<name>{_NAME})(?:\s+\([^()]{{1,40}}\))?(?:\s+[a-z]+){{1,4}}\s+its\s+"
                       rf"(?i:{_words(cues['owner_words'])})\b")
    return header, agent, applies, copyright, owner


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" ,;")
    name = name if re.search(r"\b(?:Inc|Co|Corp|Ltd)\.$", name) else name.rstrip(".")
    entry = directory().lookup(name)
    if not (entry and name.lower() in (n.lower() for n in [entry["name"], *entry["aliases"]])):
        name = re.sub(r"^(?:The|the)\s+", "", name)  # 'The Cigna Group' keeps its article: it is the name
    known = next((n for n in [entry["name"], *entry["aliases"]] if n.lower() == name.lower()), None) if entry else None
    return known or (name.title() if name.isupper() and len(name) > 4 else name)  # 'BCBSNC' as the directory spells it


def candidates(layout: Layout, kind: str) -> list[Candidate]:
    """Names the document gives its payer, each with how strongly where it stands says it is the payer."""
    d, (header, agent, applies, copyright, owner) = directory(), _cue_patterns()
    found: list[Candidate] = []
    blocks = [b for b in layout.blocks if b.kind != "table"]
    for n, b in enumerate(blocks):
        text, where = b.clean, b.text
        if kind == "payer-policy" and n < 3 and b.kind in ("heading", "paragraph", "field"):
            if (m := header.match(text)) and m.group("name") and not d.is_generic(m.group("name")):
                found.append(Candidate(_clean_name(m.group("name")), where.source(m.start("name"), m.end("name")), 6))
            for a, z, entry in d.find(text[:120]):
                if a < 3 or entry is not None:
                    found.append(Candidate(_clean_name(text[a:z]), where.source(a, z), 6 if a < 3 else 2))
            bare = re.sub(rf"\b(?:{_words(d.cues['header_words'])})\b", "", text, flags=re.I).strip(" -:|")
            if b.kind == "heading" and text.isupper() and _ORG_WORDS.search(bare) and len(bare.split()) >= 2:
                found.append(Candidate(_clean_name(text), where.source(), 5))
        if b.kind == "field" and b.label and re.fullmatch(r"(?i)payer|payor|health plan|plan name|insurer|carrier",
                                                          b.label):
            found.append(Candidate(_clean_name(b.value.clean), b.value.source(), 10))
        for rx, weight in ((agent, 3), (owner, 3), (applies, 5), (copyright, 4 if kind == "payer-policy" else 0)):
            for m in rx.finditer(text):
                group = "before" if m.groupdict().get("before") else "name"
                name = m.group(group)
                if d.is_generic(name):
                    continue  # 'Medicare Advantage members', 'Commercial members': a line of business, not a payer
                for a, z, entry in d.find(name):
                    found.append(Candidate(_clean_name(name[a:z]), where.source(m.start(group) + a,
                                                                                m.start(group) + z), weight))
                if not any(True for _ in d.find(name)) and kind == "payer-policy" and weight:
                    # a name the directory does not know: a statement of whose policy it is counts in full, a verb
                    # it does ('X uses', 'X may alter') less
                    found.append(Candidate(_clean_name(name), where.source(m.start(group), m.end(group)),
                                           weight if rx is applies else 2))
        if kind == "payer-policy":
            for a, z, entry in d.find(text):
                if entry is not None:
                    found.append(Candidate(_clean_name(text[a:z]), where.source(a, z), 1))
    if kind != "payer-policy":
        found += _site_header(layout)
    flow = " ".join(b.clean for b in layout.blocks)
    found += _repeated(layout, found)
    return [c for c in found if c.weight and not d.is_generic(c.name) and len(c.name) > 2
            and (d.lookup(c.name) is not None or c.weight >= 5 or _is_proper_name(c.name, flow))]


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
                out.append(Candidate(_clean_name(b.clean[a:z]), b.text.source(a, z), 6))
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
    if len(name.split()) >= 2 and _ORG_WORDS.search(name):
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


def _plans_named(layout: Layout, payer: str) -> list[tuple[str, Source]]:
    """The payer's own plans the document names ('applies to members of Regence BlueShield of Idaho and ...'): the
    directory's children of the payer, each an alias of the payer in this document; not a child with a role of its
    own (a Medicare contractor administers the program, a state runs its program: neither is another name of it)."""
    d, out = directory(), []
    entry = d.lookup(payer)
    if entry is None:
        return out
    for b in layout.blocks:
        for a, z, child in d.find(b.clean):
            if child is not None and child.get("parent") == entry["name"] and not child.get("role"):
                out.append((child["name"] if b.clean[a:z].lower() == child["name"].lower() else _clean_name(b.clean[a:z]),
                            b.text.source(a, z)))
    return out


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
    for alias, src in _named_aliases(layout, name) + _short_forms(layout, name) + _plans_named(layout, name):
        aliases.setdefault(alias, src)
    return facts + [PolicyField(source=s, name="alias", value=a) for a, s in aliases.items()
                    if a.lower() != name.lower()]


def _named_aliases(layout: Layout, payer: str) -> list[tuple[str, Source]]:
    """Names the text gives the payer: '(together called the "Company")', 'and its subsidiary, HMO X, Inc.', a role
    ('Medicare carriers'), a contraction of its name ('iCare', 'LCHP')."""
    cues, out = directory().cues, []
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", payer)]
    called = _words(cues["alias_words"])
    quoted = re.compile(rf"\((?:(?i:{called})\s+)?(?P<the>(?i:the)\s+)?[\"“']?(?P<a>[A-Z][\w-]{{1,20}})[\"”']?\s*\)"
                        rf"|(?i:{called})\s+(?P<the2>(?i:the)\s+)?[\"“](?P<b>[^\"”]{{2,30}})[\"”]")
    defined = re.compile(r"[\"“](?P<d>[A-Z][^\"”]{2,30})[\"”]\s+(?:refers?\s+to|means|is\s+used\s+for)\b")
    subsidiary = re.compile(rf"{re.escape(payer)}\s+(?:{_words(cues['subsidiary_words'])}),?\s+(?P<s>{_NAME}"
                            rf"(?:,\s*Inc\.?)?)")
    role = re.compile(rf"\b{re.escape(payer)}\s+(?P<r>{_words(cues['role_words'])})\b")
    collective = re.compile(rf"{re.escape(payer)}\s+(?i:{_words(cues['collective_words'])})\s+(?:[a-z][\w -]*?\s)?"
                            r"(?P<list>[A-Z](?:[^.;]|\.(?=,))*?)(?:,\s+unless\b|[.;](?!,)|$)")
    companies = re.compile(rf"{re.escape(payer)}\b[^.;]{{0,60}}?\b(?i:{_words(cues['company_words'])}),?\s+"
                           r"(?P<list>[A-Z](?:[^.;]|\.(?=,))*?)(?=,\s+(?:an?\s+)?independent\b|,\s+which\b|[.;](?!,)|$)")
    corporations = re.compile(rf"(?P<list>[A-Z](?:[^.;]|(?<=Inc|Ltd)\.|(?<=Corp)\.|\.(?=,))*?)\s+"
                              rf"(?i:{_words(cues['corporation_words'])})\b")
    for b in layout.blocks:
        text = b.clean
        for m in [*companies.finditer(text), *corporations.finditer(text)]:
            names = _listed(text, m.start("list"), m.group("list"))
            if m.re is corporations and not any(name_key(n) == name_key(payer) for n, _ in names):
                continue  # companies a sentence calls corporations are the payer's only when the payer is one
            out += [(n, b.text.source(a, a + len(n))) for n, a in names if n.lower() != payer.lower()]
        for m in collective.finditer(text):  # 'X may refer collectively to X, X Options, Inc., and X Insurance Co'
            start = m.start("list")
            for part in re.finditer(r"(?:[^,]|,\s*(?=Inc\b|LLC\b|Ltd\b|Corp\b))+", m.group("list")):
                name = re.sub(r"^\s*(?:and|&)\s+", "", part.group(0)).strip()
                if name[:1].isupper() and name.lower() != payer.lower() and len(name.split()) <= 8:
                    at = start + part.start() + part.group(0).index(name)
                    out.append((name, b.text.source(at, at + len(name))))
        for m in quoted.finditer(text):
            group = "a" if m.group("a") else "b"
            bare, the = m.group(group), m.group("the" if group == "a" else "the2")
            said = text[m.start():m.end()]
            if re.match(r"\W*\s*(?:section|tab|page|heading|link)\b", text[m.end():], re.I):
                continue  # 'the "Policy" section' names a part of the document
            named = said.count('"') >= 2 or bool(re.search(called, said, re.I))
            if bare.lower() != payer.lower() and (bare.lower() == words[0] or _is_contraction(bare, words)
                                                  or payer.lower().startswith(bare.lower()) or named):
                start = m.start("the" if group == "a" else "the2") if the else m.start(group)
                alias = f"{the.strip()} {bare}" if the else bare
                out.append((alias, b.text.source(start, m.end(group))))
        for m in defined.finditer(text):  # '"Cigna Companies" refers to ...' names the payer in its own words
            if any(w.lower() in words for w in re.findall(r"[A-Za-z]+", m.group("d"))) \
                    and m.group("d").lower() != payer.lower():
                out.append((m.group("d"), b.text.source(m.start("d"), m.end("d"))))
        for m in subsidiary.finditer(text):
            out.append((m.group("s").strip(" ,"), b.text.source(m.start("s"), m.end("s"))))
        for m in role.finditer(text):
            out.append((f"{payer} {m.group('r')}", b.text.source(m.start(), m.end())))
        for token in re.finditer(r"\b[A-Za-z][A-Za-z0-9]{2,15}\b(?![.-]\w)", text):  # not a part of an id
            t = token.group(0)
            if (t.lower() not in words and (t.isupper() or re.search(r"[a-z][A-Z]", t))
                    and _is_contraction(t, words)):
                out.append((t, b.text.source(token.start(), token.end())))
    return out


def _listed(text: str, start: int, listed: str) -> list[tuple[str, int]]:
    """(name, offset in text) of the companies in a list ('A, B Inc., and C, Inc.'): a comma before Inc. or LLC is
    part of a name."""
    out = []
    for part in re.finditer(r"(?:[^,]|,\s*(?=Inc\b|LLC\b|Ltd\b|Corp\b))+", listed):
        for piece in re.split(r"\s+and\s+(?=[A-Z])", part.group(0)):
            name = re.sub(r"^\s*(?:and|&)\s+", "", piece).strip()
            if name[:1].isupper() and len(name.split()) <= 8:
                out.append((name, start + part.start() + part.group(0).index(name)))
    return out


def _short_forms(layout: Layout, payer: str) -> list[tuple[str, Source]]:
    """The payer's name cut short and used alone ('Cigna' for 'Cigna Healthcare', 'Arkansas Blue Cross' for 'Arkansas
    Blue Cross Blue Shield'), followed only by a word about its documents or members."""
    d, out = directory(), []
    words = payer.split()
    follow = {w.split()[0].lower() for w in d.cues["agent_words"] + d.cues["header_words"]} | {"has", "will", "may",
                                                                                                  "thyroid", "'s"}
    for k in range(len(words) - 1, 0, -1):
        prefix = " ".join(words[:k])
        if len(prefix) < 4 or prefix.lower() in ("blue", "the", "health", "medical"):
            continue
        if words[k - 1].lower() in ("of", "and", "&", "the"):
            continue
        if (other := d.lookup(prefix)) is not None and other is not d.lookup(payer):
            continue  # another payer's name ('Kaiser Permanente' for 'Kaiser Permanente Colorado': its parent)
        rx = re.compile(rf"(?<![\w-]){re.escape(prefix)}(?P<next>\s+[\w']+|'s|[.,;:)]|$)")
        for b in layout.blocks:
            for m in rx.finditer(b.clean):
                nxt = m.group("next").strip()
                if b.clean[m.start("next"):].startswith(payer[len(prefix):]):
                    continue  # the full name
                if nxt.lower() in follow or not nxt or not nxt[0].isalpha() or nxt == "'s" or (
                        nxt[0].islower() and nxt.lower() not in ("and", "of", "or", "&")):
                    out.append((prefix, b.text.source(m.start(), m.start() + len(prefix))))
                    break
    return out


_JOINERS = {"and", "of", "the", "&"}


def _is_contraction(alias: str, words: list[str]) -> bool:
    """'iCare' from 'Independent Care ...', 'LCHP' from 'Lakeshore Community Health Plan': prefixes of consecutive
    payer-name words, at least two of them ('and', 'of' may be left out: 'BCBSNC')."""
    alias = alias.lower()

    def fits(a: str, i: int, used: int) -> bool:
        if not a:
            return used >= 2
        if i >= len(words):
            return False
        if words[i] in _JOINERS and fits(a, i + 1, used):  # 'BCBSF': Blue Cross and Blue Shield of Florida
            return True
        return any(fits(a[k:], i + 1, used + 1) for k in range(1, len(a) + 1) if words[i].startswith(a[:k]))

    return fits(alias, 0, 0)
