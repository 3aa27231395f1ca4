"""Payer Organizations (named in policies and code reports, with aliases) and lines of business."""

from fhir_ire.build.context import BuildContext, slug
from fhir_ire.crd.lineage import MAX_DEPTH
from fhir_ire.data import load as load_data
from fhir_ire.errors import BuildError
from fhir_ire.facts import PayerMention, PolicyField
from fhir_ire.names import name_key as _key
from fhir_ire.sources.payers import directory
from fhir_ire.uris import ORGANIZATION_TYPE


def _identity(names: list[str]) -> dict | None:
    d = directory()
    return next((e for e in (d.lookup(n) for n in names) if e is not None), None)


def collect_payers(ctx: BuildContext) -> dict[str, dict]:
    """{organization id: {id, name, aliases, sources, policies, entry}}: the payers the documents name (payer fields,
    their aliases, payer mentions), one per payer identity: the directory's entry when it knows the payer, else the
    name as the documents give it."""
    payers: dict[str, dict] = {}
    by_key: dict[str, str] = {}

    def add(name: str, others: list[str], sources: list, doc_file: str | None):
        entry = _identity([name, *others])
        pid = by_key.get(_key(name)) or (slug(entry["name"]) if entry else slug(name))
        # ordered sets (dicts): a payer named by thousands of documents must not rescan its list for each name
        p = payers.setdefault(pid, {"id": pid, "name": entry["name"] if entry else name, "aliases": {},
                                    "sources": {}, "policies": {}, "entry": entry})
        if doc_file:
            p["policies"][doc_file] = None
        p["sources"].update(dict.fromkeys(sources))
        for alias in [name, *others]:
            if alias.lower() != p["name"].lower():
                p["aliases"][alias] = None
            if not directory().is_generic(alias):  # 'the Company', 'Blue Cross' name no one payer
                by_key.setdefault(_key(alias), pid)

    for doc in ctx.documents:
        fields = [f for f in doc.of(PolicyField) if f.name in ("payer", "alias")]
        name = next((f for f in fields if f.name == "payer"), None)
        if name is not None:
            add(name.value, [f.value for f in fields if f.name == "alias"], [f.source for f in fields],
                doc.file if doc.kind == "payer-policy" else None)
    for _, f in ctx.facts(PayerMention):
        add(f.name, [], [f.source], None)
    _add_members(payers)
    _add_parents(payers)  # after the members: every line is walked, its depth and cycles checked
    return {pid: {**p, "aliases": list(p["aliases"]), "sources": list(p["sources"]), "policies": list(p["policies"])}
            for pid, p in payers.items()}


def _add_parents(payers: dict[str, dict]) -> None:
    """A regional plan is part of its brand, a contractor of its program (the directory's parent), and the brand of
    its own parent, if any: every payer of the line published, each with its parent. A line deeper than the engine
    takes (crd/lineage.py MAX_DEPTH) or a cycle is a directory error (BuildError, one line)."""
    for p in list(payers.values()):
        line = [p["name"]]
        while (parent := directory().lookup((p["entry"] or {}).get("parent"))) is not None:
            if parent["name"] in line or len(line) > MAX_DEPTH:
                raise BuildError(f"payer directory: the parents of {line[0]} make a cycle or a line deeper than "
                                 f"{MAX_DEPTH} ({' -> '.join([*line, parent['name']])})")
            line.append(parent["name"])
            p["parent"] = slug(parent["name"])
            p = payers.setdefault(p["parent"], {"id": p["parent"], "name": parent["name"], "aliases": {},
                                                "sources": {}, "policies": {}, "entry": parent})


def _add_members(payers: dict[str, dict]) -> None:
    """The payers the directory lists as part of a published payer (a brand's regional plans, a program's
    contractors), published with it, so that a Coverage naming one is matched and answered with the policies of
    the payers it is part of (docs/crd.md). Listed entries only: the state programs the directory derives from
    place names are published when a document names them."""
    children: dict[str, list[dict]] = {}
    for e in load_data("payers.json")["payers"]:
        if e.get("parent"):
            children.setdefault(_key(e["parent"]), []).append(e)
    known = {_key(n) for p in payers.values() for n in [p["name"], *p["aliases"]]}
    todo = [p for p in payers.values() if p["entry"]]
    while todo:
        parent = todo.pop()
        for e in children.get(_key(parent["entry"]["name"]), []):
            if _key(e["name"]) not in known:
                known.add(_key(e["name"]))
                todo.append(payers.setdefault(slug(e["name"]), {
                    "id": slug(e["name"]), "name": e["name"], "aliases": {}, "sources": {}, "policies": {},
                    "entry": e, "parent": parent["id"]}))


def names_index(payers: dict[str, dict]) -> dict[str, list[str]]:
    """Name key -> the ids of the payers known by it (name or alias), in id order: built once per payer set, so that
    finding a policy's payer does not key every name of every payer again (quadratic in payers)."""
    index = {}
    for pid, p in sorted(payers.items()):
        for key in dict.fromkeys(_key(n) for n in [p["name"], *p["aliases"]]):
            index.setdefault(key, []).append(pid)
    return index


def payer_id(index: dict[str, list[str]], name: str) -> str:
    """The id of the payer a name belongs to (its name or one of its aliases; the first id when several are)."""
    return index[_key(name)][0]


def program_line(name: str) -> dict | None:
    """The line of business a payer is the government program of (e.g. a fee-for-service program), if any."""
    for line in load_data("lines-of-business.json")["lines"]:
        if _key(name) in {_key(p) for p in line.get("program", [])}:
            return line
    return None


def lines_of_business(*texts: str) -> list[dict]:
    """Codings of the lines of business the texts name, with their broader lines."""
    codes = []
    data = load_data("lines-of-business.json")["lines"]
    for text in texts:
        low = (text or "").lower()
        for line in data:
            if any(p in low for p in line["patterns"]):
                for code in [line["code"], *line["broader"]]:
                    if code not in codes:
                        codes.append(code)
    return [{"code": c, "display": next(x["display"] for x in data if x["code"] == c)} for c in codes]


def build_organizations(ctx: BuildContext, payers: dict[str, dict]) -> list[dict]:
    """Payer Organizations: the name (the directory's, when it knows the payer), the other names the documents and the
    directory give it (never a name shared by many payers, such as 'Blue Cross'), and the identifiers the directory
    knows (clearinghouse payer IDs), so a Coverage's payor matches by identifier first."""
    d = directory()
    index = names_index(payers)
    out = []
    for pid, p in sorted(payers.items()):
        entry = p.get("entry") or {}
        org = {"resourceType": "Organization", "id": pid, "active": True}
        idents = [_identifier(ctx, d, i) for i in entry.get("identifiers", [])]
        if idents:
            org["identifier"] = idents
        org["type"] = [{"coding": [{"system": ORGANIZATION_TYPE, "code": "pay", "display": "Payer"}]}]
        org["name"] = p["name"]
        aliases = {a for a in p["aliases"] + list(entry.get("aliases", []))
                   if not d.is_generic(a) and a.lower() != p["name"].lower() and index.get(_key(a), [pid]) == [pid]}
        if aliases:
            org["alias"] = sorted(aliases)
        if p.get("parent"):
            org["partOf"] = {"reference": f"Organization/{p['parent']}", "display": payers[p["parent"]]["name"]}
        ctx.cite(org, *p["sources"])
        out.append(org)
    return out


def _identifier(ctx: BuildContext, d, ident: dict) -> dict:
    kind = d.identifier_types[ident["type"]]
    system = kind["system"] if kind["system"].startswith(("http", "urn")) else ctx.base + kind["system"]
    return {"use": "official", "type": {"coding": [kind["type"]]}, "system": system, "value": ident["value"]}

