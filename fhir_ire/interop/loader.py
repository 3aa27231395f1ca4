"""Load bundle files into a FHIR server: PUT by id, skip what the server already holds, split batches on 413.

Each chunk of a bundle is first read back from the server with one batch of GETs; resources that are equal
(ignoring the meta the server adds) are not sent again, so a second load changes nothing on the server.
"""

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from fhir_ire.errors import LoadError, RequestTooLarge, ServerRefused
from fhir_ire.interop.client import FhirClient, outcome_text
from fhir_ire.store import read_bundle

OUTCOMES = ("created", "updated", "unchanged", "failed")
# meta elements servers set themselves; everything else in meta (profile, tag, security) is ours to compare.
SERVER_META = {"versionId", "lastUpdated", "source", "author", "project", "compartment", "account", "accounts",
               "onBehalfOf"}


@dataclass
class BundleFile:
    path: Path
    entries: list[dict]


@dataclass
class Tally:
    """created / updated / unchanged / failed counts per resource type."""
    by_type: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, rtype: str, outcome: str, n: int = 1) -> None:
        self.by_type[rtype][outcome] += n

    def total(self) -> Counter:
        out = Counter()
        for counts in self.by_type.values():
            out.update(counts)
        return out


@dataclass
class Result:
    tally: Tally = field(default_factory=Tally)
    requests: int = 0
    seconds: float = 0.0


def read_bundle_files(folder: str | Path) -> list[BundleFile]:
    """Every Bundle directly in folder, in name order; all checked before anything is sent."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LoadError(f"{folder}: bundle folder not found")
    files, seen = [], {}
    for path in sorted(folder.glob("*.json")):
        bundle = read_bundle(path)
        if bundle is None:
            continue
        files.append(BundleFile(path, bundle.get("entry") or []))
        for entry in files[-1].entries:
            key = ref(entry["resource"])
            if key in seen:  # two PUTs of one id: the second would silently win, or a server refuses the bundle
                raise LoadError(f"{path}: {key} is also in {seen[key]}")
            seen[key] = path.name
    if not files:
        raise LoadError(f"{folder}: no FHIR Bundle files (*.json) to load")
    return files


def without(files: list[BundleFile], skip: list[str]) -> tuple[list[BundleFile], int]:
    """The files without the resources named in skip ("Type" or "Type/id"); and how many were left out."""
    skip = set(skip or [])
    if not skip:
        return files, 0
    kept, left_out, used = [], 0, set()
    for bf in files:
        entries = []
        for e in bf.entries:
            names = {e["resource"]["resourceType"], ref(e["resource"])} & skip
            used |= names
            if not names:
                entries.append(e)
        left_out += len(bf.entries) - len(entries)
        kept.append(BundleFile(bf.path, entries))
    if skip - used:  # a typo would otherwise load what the user meant to leave out
        raise LoadError(f"--skip {', '.join(sorted(skip - used))}: no such resource in the bundles")
    return kept, left_out


def ref(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def without_server_meta(resource: dict) -> dict:
    out = dict(resource)
    meta = {k: v for k, v in (out.pop("meta", None) or {}).items() if k not in SERVER_META}
    if meta:
        out["meta"] = meta
    return out


def same(ours: dict, theirs: dict | None) -> bool:
    return theirs is not None and without_server_meta(ours) == without_server_meta(theirs)


def response_of(entry: dict) -> dict:
    response = entry.get("response")
    return response if isinstance(response, dict) else {}


def status_of(entry: dict) -> int:
    text = str(response_of(entry).get("status") or "").strip()
    digits = text.split(" ", 1)[0]
    return int(digits) if digits.isdigit() else 0


class Loader:
    """Loads chunks of entries through one FhirClient and counts what happened."""

    def __init__(self, client: FhirClient, batch_size: int = 100, progress=None, bundle_type: str = "transaction"):
        if batch_size < 1:
            raise LoadError("--batch-size must be at least 1")
        if bundle_type not in ("transaction", "batch"):
            raise LoadError(f"bundle type {bundle_type!r}: use transaction or batch")
        self.client, self.batch_size, self.progress = client, batch_size, progress or (lambda line: None)
        self.bundle_type = bundle_type
        self.can_batch_read = True
        self.result = Result()

    def existing(self, entries: list[dict]) -> dict[str, dict | None] | None:
        """What the server holds for these entries (None per absent resource), or None when it cannot say."""
        if not self.can_batch_read:
            return None
        reads = {"resourceType": "Bundle", "type": "batch",
                 "entry": [{"request": {"method": "GET", "url": ref(e["resource"])}} for e in entries]}
        try:
            answer = self.client.bundle(reads)
        except ServerRefused as e:
            if isinstance(e, RequestTooLarge) or e.status in (401, 403) or 300 <= e.status <= 399:
                raise
            # A server without batch reads still takes the PUTs; we just cannot tell unchanged from updated.
            self.can_batch_read = False
            self.progress(f"  (no batch reads on this server, sending every resource: {e})")
            return None
        found = {}
        for entry, got in zip(entries, answer["entry"]):
            resource = got.get("resource")
            ok = 200 <= status_of(got) <= 299 and isinstance(resource, dict)
            found[ref(entry["resource"])] = resource if ok else None
        return found

    def put(self, entries: list[dict], tally: Tally) -> None:
        """Send one chunk; on 413 split it in two and send the halves."""
        try:
            self._put(entries, tally)
        except RequestTooLarge as e:
            if len(entries) == 1:
                tally.add(entries[0]["resource"]["resourceType"], "failed")
                raise LoadError(f"{ref(entries[0]['resource'])} alone is too large for this server: {e}") from None
            half = len(entries) // 2
            self.progress(f"  request too large, splitting {len(entries)} entries into {half} + {len(entries) - half}")
            self.put(entries[:half], tally)
            self.put(entries[half:], tally)

    def _put(self, entries: list[dict], tally: Tally) -> None:
        held = self.existing(entries)
        todo = []
        for entry in entries:
            resource = entry["resource"]
            if held is not None and same(resource, held.get(ref(resource))):
                tally.add(resource["resourceType"], "unchanged")
            else:
                todo.append(entry)
        if not todo:
            return
        transaction = {"resourceType": "Bundle", "type": self.bundle_type, "entry": [
            {**({"fullUrl": e["fullUrl"]} if e.get("fullUrl") else {}), "resource": e["resource"],
             "request": {"method": "PUT", "url": ref(e["resource"])}} for e in todo]}
        try:
            answer = self.client.bundle(transaction)
        except LoadError as e:
            if not isinstance(e, RequestTooLarge):  # put() splits those and sends them again
                for entry in todo:
                    tally.add(entry["resource"]["resourceType"], "failed")
            raise
        failures = []
        for entry, got in zip(todo, answer["entry"]):
            resource, status = entry["resource"], status_of(got)
            if not 200 <= status <= 299:
                tally.add(resource["resourceType"], "failed")
                why = outcome_text(response_of(got).get("outcome"))
                failures.append(f"{ref(resource)}: HTTP {status}: {why}")
            elif held is not None:
                tally.add(resource["resourceType"], "updated" if held.get(ref(resource)) else "created")
            else:
                tally.add(resource["resourceType"], "created" if status == 201 else "updated")
        if failures:
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            raise LoadError(f"the server refused {failures[0]}{more}")

    def load(self, files: list[BundleFile]) -> Result:
        """Load the files in order; stop at the first refusal (later bundles may refer to it).

        self.result holds the counts so far, also after a LoadError."""
        result = self.result = Result()
        started = time.monotonic()
        for bf in files:
            before, t0, sent = result.tally.total(), time.monotonic(), self.client.requests
            try:
                for i in range(0, len(bf.entries), self.batch_size):
                    self.put(bf.entries[i:i + self.batch_size], result.tally)
            except LoadError as e:
                raise LoadError(f"{bf.path.name}: {e}") from None
            finally:
                result.seconds, result.requests = time.monotonic() - started, self.client.requests
                counts = result.tally.total() - before
                self.progress(f"{bf.path.name}: {plural(len(bf.entries), 'resource')}, "
                              + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
                              + f" ({plural(self.client.requests - sent, 'request')}, {time.monotonic() - t0:.2f} s)")
        return result


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_lines(tally: Tally) -> list[str]:
    width = max([len("total")] + [len(t) for t in tally.by_type])
    lines = [f"{'type':<{width}}  " + "  ".join(f"{o:>9}" for o in OUTCOMES)]
    for rtype in sorted(tally.by_type):
        lines.append(f"{rtype:<{width}}  " + "  ".join(f"{tally.by_type[rtype][o]:>9}" for o in OUTCOMES))
    total = tally.total()
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{total[o]:>9}" for o in OUTCOMES))
    return lines
