"""The other names a document gives its payer: '(together called the "Company")', its subsidiaries and companies,
a role ('Medicare carriers'), a contraction ('iCare'), the name cut short ('Cigna'), the brand's own plans it names."""

import re

from fhir_ire.facts import Source
from fhir_ire.names import name_key
from fhir_ire.sources.directory import NAME, alternatives, clean_name, directory
from fhir_ire.sources.layout import Layout

# a company's name ends in a corporate word ('Presbyterian Insurance Company, Inc.', 'Moda Health Plan, Inc.')
_CORPORATE = r"(?:Health\s+Plan|Insurance\s+Company|Company|Corporation|Inc\.|LLC)(?:,?\s+(?:Inc\.|LLC))?(?![\w-])"
_PLAIN_FIRST = {"blue", "health", "medical", "the", "first", "community", "national", "american", "united", "premier",
                "select", "group", "care"}


def legal_names(layout: Layout, payer: str) -> list[tuple[str, Source]]:
    """The payer's own legal names the document writes (a signature, a footer): its name with the state it is of
    ('Health Alliance Plan of Michigan'), and a company named with the payer's own first word and a corporate word
    ('Presbyterian Insurance Company, Inc.' on a Presbyterian Health Plan letter). Never another payer the directory
    knows (a sibling plan of the same brand)."""
    words = payer.split()
    d, out = directory(), []
    forms = [rf"(?<![\w-]){re.escape(payer)}\s+(?:of\s+)?(?P<place>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"]
    if len(words) >= 2 and len(words[0]) >= 4 and words[0].lower() not in _PLAIN_FIRST:
        forms.append(rf"(?<![\w-]){re.escape(words[0])}(?:\s+(?:of\s+|and\s+)?[A-Z][\w&'-]*){{0,4}}?\s+{_CORPORATE}")
    mine = d.lookup(payer)
    for text in [b.text for b in layout.blocks] + layout.furniture:  # a footer is page furniture
        if words[0] not in text.clean:
            continue
        for m in (m for form in forms for m in re.finditer(form, text.clean)):
            place = _place(m.group("place")) if "place" in m.groupdict() else ""
            if "place" in m.groupdict() and not place:
                continue  # the payer's name and words that are no state ('Health Alliance Plan Commercial')
            name = m.group(0)[:m.start("place") - m.start()] + place if place else m.group(0).rstrip(",")
            other = d.lookup(name)
            if name.lower() != payer.lower() and (other is None or other is mine):
                out.append((name, text.source(m.start(), m.start() + len(name))))
    return out


def _place(words: str) -> str:
    """The place a name of a word or two after a payer's name starts with ('New Mexico', 'Michigan'), or ''."""
    return next((p for p in directory().places if words == p or words.startswith(p + " ")), "")


def plans_named(layout: Layout, payer: str) -> list[tuple[str, Source]]:
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
                out.append((child["name"] if b.clean[a:z].lower() == child["name"].lower() else clean_name(b.clean[a:z]),
                            b.text.source(a, z)))
    return out


def named_aliases(layout: Layout, payer: str) -> list[tuple[str, Source]]:
    """Names the text gives the payer: '(together called the "Company")', 'and its subsidiary, HMO X, Inc.', a role
    ('Medicare carriers'), a contraction of its name ('iCare', 'LCHP')."""
    cues, out = directory().cues, []
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", payer)]
    called = alternatives(cues["alias_words"])
    quoted = re.compile(rf"\((?:(?i:{called})\s+)?(?P<the>(?i:the)\s+)?[\"“']?(?P<a>[A-Z][\w-]{{1,20}})[\"”']?\s*\)"
                        rf"|(?i:{called})\s+(?P<the2>(?i:the)\s+)?[\"“](?P<b>[^\"”]{{2,30}})[\"”]")
    defined = re.compile(r"[\"“](?P<d>[A-Z][^\"”]{2,30})[\"”]\s+(?:refers?\s+to|means|is\s+used\s+for)\b")
    subsidiary = re.compile(rf"{re.escape(payer)}\s+(?:{alternatives(cues['subsidiary_words'])}),?\s+(?P<s>{NAME}"
                            rf"(?:,\s*Inc\.?)?)")
    role = re.compile(rf"\b{re.escape(payer)}\s+(?P<r>{alternatives(cues['role_words'])})\b")
    collective = re.compile(rf"{re.escape(payer)}\s+(?i:{alternatives(cues['collective_words'])})\s+(?:[a-z][\w -]*?\s)?"
                            r"(?P<list>[A-Z](?:[^.;]|\.(?=,))*?)(?:,\s+unless\b|[.;](?!,)|$)")
    companies = re.compile(rf"{re.escape(payer)}\b[^.;]{{0,60}}?\b(?i:{alternatives(cues['company_words'])}),?\s+"
                           r"(?P<list>[A-Z](?:[^.;]|\.(?=,))*?)(?=,\s+(?:an?\s+)?independent\b|,\s+which\b|[.;](?!,)|$)")
    corporations = re.compile(rf"(?P<list>[A-Z](?:[^.;]|(?<=Inc|Ltd)\.|(?<=Corp)\.|\.(?=,))*?)\s+"
                              rf"(?i:{alternatives(cues['corporation_words'])})\b")
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


def short_forms(layout: Layout, payer: str) -> list[tuple[str, Source]]:
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
