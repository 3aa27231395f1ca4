"""Source documents as the pages show them: the text carried in each DocumentReference, split into numbered lines
as the readers numbered them, with the lines facts were read from and the resources and findings built from each."""

import base64
import binascii
import re
from dataclasses import dataclass, field

from fhir_ire.citations import document_id, line_span
from fhir_ire.store import ResourceIndex

_CODE_TOKEN = re.compile(r"(?<![\w.])[A-Z0-9][A-Z0-9]{1,6}(?:\.[A-Z0-9]{1,4})?(?![\w])")


@dataclass(frozen=True)
class Ref:
    """Something built from a line: a resource (rtype/rid) or a QA finding (rtype 'finding', rid its code)."""
    rtype: str
    rid: str
    label: str


@dataclass
class Source:
    resource: dict
    lines: list[str]
    files: set[str] = field(default_factory=set)
    marks: dict[int, list[Ref]] = field(default_factory=dict)  # first line of a quoted span -> what was built from it
    marked: set[int] = field(default_factory=set)  # every line inside a quoted span
    codes: dict[int, list[str]] = field(default_factory=dict)  # line -> known codes it mentions

    @property
    def id(self) -> str:
        return self.resource["id"]

    @property
    def title(self) -> str:
        att = _attachment(self.resource)
        return self.resource.get("description") or att.get("title") or self.id

    @property
    def kind(self) -> str:
        return (self.resource.get("type") or {}).get("text") or ""

    @property
    def sha256(self) -> str | None:
        for ident in self.resource.get("identifier") or []:
            value = ident.get("value") or ""
            if value.startswith("ni:///sha-256;"):
                raw = value.split(";", 1)[1]
                try:
                    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex()
                except (binascii.Error, ValueError):
                    return None
        return None

    @property
    def address(self) -> str | None:
        """The document's public address, when the bundle gives one (a source manifest entry)."""
        urls = [(c.get("attachment") or {}).get("url") or "" for c in self.resource.get("content") or []]
        return next((u for u in urls if u.startswith(("http://", "https://"))), None)

    def add(self, start: int, end: int, ref: Ref) -> None:
        refs = self.marks.setdefault(start, [])
        if ref not in refs:
            refs.append(ref)
        self.marked.update(range(start, end + 1))


def _attachment(doc: dict) -> dict:
    return next(((c.get("attachment") or {}) for c in doc.get("content") or [] if c.get("attachment")), {})


def text_lines(doc: dict) -> list[str]:
    """The document's lines, numbered as the readers number them (CRLF and CR are line breaks; a BOM is dropped)."""
    data = _attachment(doc).get("data")
    if not data:
        return []
    try:
        text = base64.b64decode(data).decode("utf-8-sig")
    except (binascii.Error, ValueError):
        return []
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def known_codes(index: ResourceIndex) -> set[str]:
    """Codes the bundles define or map: concepts of code system fragments and ConceptMap sources and targets."""
    codes = {c.get("code") for cs in index.all("CodeSystem") if cs.get("content") == "fragment"
             for c in cs.get("concept") or []}
    for cm in index.all("ConceptMap"):
        for group in cm.get("group") or []:
            for el in group.get("element") or []:
                codes.add(el.get("code"))
                codes.update(t.get("code") for t in el.get("target") or [])
    return {c for c in codes if c}


def load_sources(index: ResourceIndex, findings: list[dict], titles: dict[str, str]) -> dict[str, Source]:
    """Every DocumentReference with its lines, marked from the Provenance of the resources built from them and the
    QA findings located in them. titles: 'Type/id' -> what to call a resource."""
    sources = {d["id"]: Source(d, text_lines(d)) for d in sorted(index.all("DocumentReference"), key=lambda d: d["id"])}
    for src in sources.values():
        url = _attachment(src.resource).get("url") or ""
        if url and not url.startswith(("http://", "https://")):
            src.files.add(url.rsplit("/", 1)[-1])
    for prov in index.all("Provenance"):
        targets = [t.get("reference") for t in prov.get("target") or [] if t.get("reference")]
        for entity in prov.get("entity") or []:
            what = entity.get("what") or {}
            src, span = sources.get(document_id(what.get("reference"))), line_span(what.get("display"))
            if src is None or span is None:
                continue
            src.files.add(span[0])
            for target in targets:
                rtype, _, rid = target.partition("/")
                src.add(span[1], span[2], Ref(rtype, rid, titles.get(target, target)))
    by_file = {f: s for s in sources.values() for f in s.files}
    for finding in findings:
        span = next((line_span(loc) for loc in finding.get("location") or [] if line_span(loc)), None)
        if span and span[0] in by_file:
            code = ((finding.get("details") or {}).get("coding") or [{}])[0].get("code") or "finding"
            by_file[span[0]].add(span[1], span[2], Ref("finding", code, (finding.get("details") or {}).get("text", "")))
    codes = known_codes(index)
    for src in sources.values():
        for n in src.marked:
            if 0 < n <= len(src.lines):
                found = [t for t in dict.fromkeys(_CODE_TOKEN.findall(src.lines[n - 1])) if t in codes]
                if found:
                    src.codes[n] = found
    return sources
