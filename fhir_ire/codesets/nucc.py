"""The NUCC health care provider taxonomy: the official CSV embedded in the package (fhir_ire/data/nucc/), or a
newer release the user gives with --nucc. The release is read from the CSV's content, never from its file name."""

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fhir_ire.data import load as load_data
from fhir_ire.errors import BuildError
from fhir_ire.uris import NUCC

SYSTEM = NUCC
REQUIRED_COLUMNS = {"Code", "Grouping", "Classification", "Specialization"}


@dataclass(frozen=True)
class Taxonomy:
    code: str
    grouping: str
    classification: str
    specialization: str
    display: str
    definition: str
    section: str


@dataclass(frozen=True)
class NuccTable:
    version: str
    path: str
    codes: dict[str, Taxonomy]

    def get(self, code: str) -> Taxonomy | None:
        return self.codes.get(code)


EMBEDDED = "nucc/release.json"
# NUCC publishes two releases a year: N.0 effective January 1 and N.1 effective July 1 of 20NN. Every change is
# dated in the Notes column ("[7/1/2025: new]"), so the latest date names the release.
NOTE_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b")


def version_from_notes(notes: list[str]) -> str | None:
    """The release the latest dated change belongs to: 7/1/2025 -> '25.1', 1/1/2025 -> '25.0'; None if undated."""
    dates = [(int(y), int(m)) for text in notes for m, _, y in NOTE_DATE.findall(text)]
    if not dates:
        return None
    year, month = max(dates)
    return f"{year % 100:02d}.{0 if month < 7 else 1}"


@lru_cache(maxsize=1)
def embedded() -> "NuccTable":
    """The release shipped in the package (its version as documented in release.json, checked against the
    content and the file's sha256)."""
    release = load_data(EMBEDDED)
    resource = resources.files("fhir_ire.data").joinpath("nucc", release["file"])
    raw = resource.read_bytes()
    if hashlib.sha256(raw).hexdigest() != release["sha256"]:
        raise BuildError("the embedded NUCC CSV does not match its sha256 in release.json", str(resource))
    return parse_nucc(raw, str(resource), version=release["version"])


def load_nucc(path: str | Path | None = None) -> "NuccTable":
    """The CSV at path, or the embedded release when no path is given."""
    return read_nucc(path) if path else embedded()


def read_nucc(path: str | Path) -> NuccTable:
    """Read the CSV; a missing, binary or malformed file raises BuildError naming it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BuildError(f"cannot read NUCC taxonomy CSV: {e.strerror}", str(path)) from None
    return parse_nucc(raw, str(path))


def parse_nucc(raw: bytes, where: str, version: str | None = None) -> NuccTable:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise BuildError("NUCC taxonomy CSV is not text", where) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not REQUIRED_COLUMNS <= set(reader.fieldnames):
        raise BuildError(f"not a NUCC taxonomy CSV (needs columns {sorted(REQUIRED_COLUMNS)})", where)
    codes, notes = {}, []
    for row in reader:
        code = (row.get("Code") or "").strip()
        if not code:
            continue
        spec = (row.get("Specialization") or "").strip()
        cls = (row.get("Classification") or "").strip()
        notes.append(row.get("Notes") or "")
        codes[code] = Taxonomy(
            code=code,
            grouping=(row.get("Grouping") or "").strip(),
            classification=cls,
            specialization=spec,
            display=(row.get("Display Name") or "").strip() or (f"{cls}, {spec}" if spec else cls),
            definition=(row.get("Definition") or "").strip(),
            section=(row.get("Section") or "").strip(),
        )
    if not codes:
        raise BuildError("NUCC taxonomy CSV has no codes", where)
    version = version or version_from_notes(notes)
    if version is None:
        raise BuildError("cannot tell the NUCC release: no dated change in the Notes column", where)
    return NuccTable(version=version, path=where, codes=codes)
