"""The in-memory resource index the server reads: every Bundle in a folder, loaded once at start-up.

Indexed by type and id, and by canonical url (and version) for canonical resources. Read-only after load.
"""

import json
from collections import defaultdict
from pathlib import Path

import orjson

from fhir_ire.errors import BundleError
from fhir_ire.files import FileRefused, read_limited

MAX_BUNDLE_BYTES = 512 * 1024 * 1024  # a bigger bundle file is refused before it is read

CANONICAL_TYPES = {
    "CodeSystem", "ValueSet", "ConceptMap", "PlanDefinition", "ChargeItemDefinition",
    "StructureDefinition", "ActivityDefinition", "Questionnaire", "Library", "NamingSystem",
}


class ResourceIndex:
    """Resources by type and id, and canonical resources by url and version."""

    def __init__(self):
        self.by_type: dict[str, dict[str, dict]] = defaultdict(dict)
        self.by_url: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        self.sources: list[str] = []
        self.timestamps: dict[str, str] = {}  # bundle file -> Bundle.timestamp (the build's as-of date)
        self.outcomes: dict[str, dict] = {}  # OperationOutcomes beside the bundles (qa-outcome.json), by id

    def add(self, resource: dict) -> None:
        rtype, rid = resource.get("resourceType"), resource.get("id")
        if not isinstance(rtype, str) or not isinstance(rid, str):
            raise BundleError("resource without resourceType or id")
        self.by_type[rtype][rid] = resource
        url = resource.get("url")
        if rtype in CANONICAL_TYPES and isinstance(url, str):
            self.by_url[rtype][url].append(resource)

    def get(self, rtype: str, rid: str) -> dict | None:
        return self.by_type.get(rtype, {}).get(rid)

    def all(self, rtype: str) -> list[dict]:
        return list(self.by_type.get(rtype, {}).values())

    def canonical(self, rtype: str, url: str, version: str | None = None) -> dict | None:
        """The resource with this url (and version when given); without a version, the latest one."""
        if "|" in url and version is None:
            url, version = url.split("|", 1)
        candidates = self.by_url.get(rtype, {}).get(url, [])
        if version is not None:
            candidates = [r for r in candidates if r.get("version") == version]
        if not candidates:
            return None
        return max(candidates, key=lambda r: version_key(r.get("version")))

    def types(self) -> list[str]:
        return sorted(t for t, rs in self.by_type.items() if rs)


def version_key(version: str | None):
    parts = []
    for p in (version or "").replace("-", ".").split("."):
        parts.append((0, int(p), "") if p.isdigit() else (1, 0, p))
    return parts


def read_resource(path: Path) -> dict:
    """Parse one JSON file holding a FHIR resource (a regular file under the size limit: never a FIFO or device)."""
    try:
        data = _parse(read_limited(path, MAX_BUNDLE_BYTES))
    except FileRefused as e:
        raise BundleError(f"{path}: {e}; remove it from the bundles folder") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: not valid JSON: {e}") from None
    except RecursionError:
        raise BundleError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict) or "resourceType" not in data:
        raise BundleError(f"{path}: not a FHIR resource (no resourceType)")
    return data


def _parse(raw: bytes):
    """orjson parses a large bundle several times faster than json (no FHIR R4 number is past 64 bits, which orjson
    would read as a float); json parses what orjson refuses (NaN, nesting past 1,024) as it always did, and words
    the error of what neither accepts."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))


def read_bundle(path: Path, data: dict | None = None) -> dict | None:
    """Parse one bundle file; None when the JSON is some other resource (qa-outcome.json)."""
    data = read_resource(path) if data is None else data
    if data["resourceType"] != "Bundle":
        return None
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise BundleError(f"{path}: Bundle.entry is not a list")
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise BundleError(f"{path}: entry {n} has no resource")
        res = entry["resource"]
        if not isinstance(res.get("resourceType"), str) or not isinstance(res.get("id"), str):
            raise BundleError(f"{path}: entry {n} resource has no resourceType or id")
    return data


def load_bundles(folder: str | Path) -> ResourceIndex:
    """Load every *.json Bundle directly in folder. A broken file raises BundleError naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"{folder}: bundle folder not found")
    index = ResourceIndex()
    for path in sorted(folder.glob("*.json")):
        data = read_resource(path)
        bundle = read_bundle(path, data)
        if bundle is None:
            if data["resourceType"] == "OperationOutcome":
                index.outcomes[data.get("id") or path.stem] = data
            continue
        for entry in bundle.get("entry", []):
            index.add(entry["resource"])
        index.sources.append(path.name)
        if isinstance(bundle.get("timestamp"), str):
            index.timestamps[path.name] = bundle["timestamp"]
    return index
