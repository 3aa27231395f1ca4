"""The FHIR R4 core code systems and value sets (administrative-gender, publication-status, ...) from the official
R4 definitions (`valuesets.json` of FHIR 4.0.1, CC0), shipped as package data and loaded at start-up.

The data file holds the complete, non-experimental code systems of the `http://hl7.org/fhir/` namespace and the core
value sets built only from them, narrative removed. Regenerate it from the official definitions with
`python -m fhir_ire.terminology.core path/to/valuesets.json`."""

import json
import sys
from pathlib import Path

from fhir_ire.store import ResourceIndex

DATA = Path(__file__).resolve().parent.parent / "data" / "fhir-r4" / "terminology.json"
CODE_SYSTEM_BASE = "http://hl7.org/fhir/"
VALUE_SET_BASE = "http://hl7.org/fhir/ValueSet/"


def load_core(path: Path = DATA) -> ResourceIndex:
    """The core definitions as a read-only index (by type and id, and by canonical url)."""
    index = ResourceIndex()
    for entry in json.loads(path.read_bytes())["entry"]:
        index.add(entry["resource"])
    index.sources.append(path.name)
    return index


def _usable(vs: dict, systems: set, valuesets: set) -> bool:
    compose = vs.get("compose") or {}
    clauses = (compose.get("include") or []) + (compose.get("exclude") or [])
    return bool(clauses) and all((not c.get("system") or c["system"] in systems) and
                                 all(u.split("|")[0] in valuesets for u in c.get("valueSet") or []) for c in clauses)


def select(definitions: dict) -> list[dict]:
    """From the official Bundle: complete FHIR code systems, and the value sets that use only them (no examples)."""
    resources = [e["resource"] for e in definitions.get("entry") or [] if not e["resource"].get("experimental")]
    codesystems = {r["url"]: r for r in resources if r.get("resourceType") == "CodeSystem" and
                   r.get("url", "").startswith(CODE_SYSTEM_BASE) and r.get("content") == "complete"}
    valuesets = {r["url"]: r for r in resources if r.get("resourceType") == "ValueSet" and
                 r.get("url", "").startswith(VALUE_SET_BASE)}
    kept = set(valuesets)
    while True:  # drop value sets that use what is not kept, until nothing changes
        usable = {url for url in kept if _usable(valuesets[url], set(codesystems), kept)}
        if usable == kept:
            break
        kept = usable
    chosen = sorted(codesystems.values(), key=lambda r: r["url"]) + [valuesets[url] for url in sorted(kept)]
    return [{k: v for k, v in r.items() if k != "text"} for r in chosen]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m fhir_ire.terminology.core path/to/valuesets.json (FHIR R4 definitions)", file=sys.stderr)
        return 2
    definitions = json.loads(Path(argv[0]).read_bytes())
    entries = [json.dumps({"resource": r}, ensure_ascii=False, separators=(",", ":")) for r in select(definitions)]
    DATA.parent.mkdir(parents=True, exist_ok=True)
    # one resource per line, so a new release shows as a readable diff
    DATA.write_text('{"resourceType":"Bundle","id":"fhir-r4-terminology","type":"collection","entry":[\n' +
                    ",\n".join(entries) + "\n]}\n", encoding="utf-8")
    print(f"{DATA}: {len(entries)} resources")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
