"""Payer Organizations (named in policies and code reports, with aliases) and lines of business."""

from fhir_ire.build.context import BuildContext, slug
from fhir_ire.data import load as load_data
from fhir_ire.facts import PayerMention, PolicyField
from fhir_ire.names import name_key as _key
from fhir_ire.uris import ORGANIZATION_TYPE


def collect_payers(ctx: BuildContext) -> dict[str, dict]:
    """{organization id: {id, name, aliases, sources, policies}} from policy payer fields and payer mentions."""
    payers: dict[str, dict] = {}
    by_key: dict[str, str] = {}
    for doc in ctx.documents:
        fields = [f for f in doc.of(PolicyField) if f.name in ("payer", "alias")]
        name = next((f for f in fields if f.name == "payer"), None)
        if name is None:
            continue
        pid = slug(name.value)
        p = payers.setdefault(pid, {"id": pid, "name": name.value, "aliases": [], "sources": [], "policies": []})
        p["policies"].append(doc.file)
        for f in fields:
            p["sources"].append(f.source)
            if f.name == "alias" and f.value not in p["aliases"]:
                p["aliases"].append(f.value)
            by_key[_key(f.value)] = pid
    for _, f in ctx.facts(PayerMention):
        pid = by_key.get(_key(f.name)) or slug(f.name)
        p = payers.setdefault(pid, {"id": pid, "name": f.name, "aliases": [], "sources": [], "policies": []})
        p["sources"].append(f.source)
        by_key[_key(f.name)] = pid
    return payers


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
    out = []
    for pid, p in sorted(payers.items()):
        org = {"resourceType": "Organization", "id": pid, "active": True,
               "type": [{"coding": [{"system": ORGANIZATION_TYPE, "code": "pay", "display": "Payer"}]}],
               "name": p["name"]}
        if p["aliases"]:
            org["alias"] = sorted(p["aliases"])
        ctx.cite(org, *p["sources"])
        out.append(org)
    return out
