"""Transaction Bundles with PUT entries, held whole (transaction) or spooled to disk one entry at a time as the
resources are made (SpooledBundle), so that a large build holds a few numbers per resource, not the resources. Both
write the same bytes (the output folder is written by build/output.py)."""

import tempfile
from collections import Counter

from fhir_ire.errors import BuildError
from fhir_ire.r4 import dump_bytes

TYPE_ORDER = ["DocumentReference", "CodeSystem", "ValueSet", "ConceptMap", "Organization", "PlanDefinition",
              "ChargeItemDefinition", "Provenance"]
ENTRY_INDENT = b"    "  # an entry sits two levels deep in the bundle: {"entry": [ {...} ]}


def order_key(rtype: str, rid: str) -> tuple[int, str]:
    return (TYPE_ORDER.index(rtype) if rtype in TYPE_ORDER else 99, rid)


def entry(resource: dict, base: str) -> dict:
    rtype, rid = resource["resourceType"], resource["id"]
    return {"fullUrl": f"{base}/{rtype}/{rid}", "resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}}


def check_unique(name: str, ids: list[tuple[str, str]]) -> None:
    if len(ids) != len(set(ids)):
        seen = Counter(ids)
        raise BuildError(f"two resources share an id in bundle {name}: {sorted(i for i, n in seen.items() if n > 1)}")


def transaction(name: str, resources: list[dict], base: str) -> dict:
    ordered = sorted(resources, key=lambda r: order_key(r["resourceType"], r["id"]))
    check_unique(name, [(r["resourceType"], r["id"]) for r in ordered])
    return {"resourceType": "Bundle", "id": name, "type": "transaction", "entry": [entry(r, base) for r in ordered]}


class SpooledBundle:
    """A transaction Bundle whose entries are encoded as each resource is made and kept in an unnamed temporary file;
    memory holds only each entry's type, id and place in the file. write_to() writes the bundle's JSON exactly as
    dump_bytes(transaction(...)) would: entries in bundle order, each indented as it would be inside the bundle
    (JSON strings hold no raw newline, so indenting every line of an entry is exact)."""

    def __init__(self, name: str, base: str):
        self.name, self.base = name, base
        self.timestamp: str | None = None
        self.index: list[tuple[tuple[int, str], str, int, int]] = []  # (order key, type, offset, length)
        self._file = tempfile.TemporaryFile(prefix="fhir-ire-spool-")
        self._end = 0

    def add(self, resource: dict) -> None:
        data = ENTRY_INDENT + dump_bytes(entry(resource, self.base))[:-1].replace(b"\n", b"\n" + ENTRY_INDENT)
        self._file.seek(self._end)
        self._file.write(data)
        rtype = resource["resourceType"]
        self.index.append((order_key(rtype, resource["id"]), rtype, self._end, len(data)))
        self._end += len(data)

    def ids(self) -> list[tuple[str, str]]:
        """(resourceType, id) of every resource added, in the order they were added."""
        return [(rtype, key[1]) for key, rtype, _, _ in self.index]

    def counts(self) -> Counter:
        return Counter(rtype for _, rtype, _, _ in self.index)

    def finish(self) -> None:
        """Put the entries in bundle order; raises BuildError when two resources share an id."""
        check_unique(self.name, self.ids())
        self.index.sort(key=lambda e: e[0])
        self._file.flush()

    def write_to(self, path) -> None:
        head = {"resourceType": "Bundle", "id": self.name, "type": "transaction", "entry": [0] if self.index else []}
        if self.timestamp:
            head["timestamp"] = self.timestamp
        text = dump_bytes(head)
        with open(path, "wb") as out:
            if not self.index:
                out.write(text)
                return
            before, after = text.split(b"\n" + ENTRY_INDENT + b"0\n")  # where the entries go
            out.write(before + b"\n")
            for n, (_, _, offset, length) in enumerate(self.index):
                out.write(b",\n" if n else b"")
                out.write(self._read(offset, length))
            out.write(b"\n" + after)

    def _read(self, offset: int, length: int) -> bytes:
        self._file.seek(offset)
        return self._file.read(length)

    def close(self) -> None:
        self._file.close()
