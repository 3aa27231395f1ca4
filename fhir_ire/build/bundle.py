"""Transaction Bundles with PUT entries (the output folder is written by build/output.py)."""

from fhir_ire.errors import BuildError

TYPE_ORDER = ["DocumentReference", "CodeSystem", "ValueSet", "ConceptMap", "Organization", "PlanDefinition",
              "ChargeItemDefinition", "Provenance"]


def transaction(name: str, resources: list[dict], base: str) -> dict:
    ordered = sorted(resources, key=lambda r: (TYPE_ORDER.index(r["resourceType"])
                                               if r["resourceType"] in TYPE_ORDER else 99, r["id"]))
    ids = [(r["resourceType"], r["id"]) for r in ordered]
    if len(ids) != len(set(ids)):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise BuildError(f"two resources share an id in bundle {name}: {dupes}")
    return {"resourceType": "Bundle", "id": name, "type": "transaction",
            "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                       "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in ordered]}
