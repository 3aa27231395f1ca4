"""The NUCC health care provider taxonomy, read from the official CSV whose path the user gives."""

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

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


def version_from_name(path: Path) -> str:
    """nucc_taxonomy_251.csv -> '25.1' (the NUCC release naming); otherwise the file stem."""
    m = re.search(r"(\d{2})(\d)\D*$", path.stem)
    return f"{m.group(1)}.{m.group(2)}" if m else path.stem


def read_nucc(path: str | Path) -> NuccTable:
    """Read the CSV; a missing, binary or malformed file raises BuildError naming it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BuildError(f"cannot read NUCC taxonomy CSV: {e.strerror}", str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise BuildError("NUCC taxonomy CSV is not text", str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not REQUIRED_COLUMNS <= set(reader.fieldnames):
        raise BuildError(f"not a NUCC taxonomy CSV (needs columns {sorted(REQUIRED_COLUMNS)})", str(path))
    codes = {}
    for row in reader:
        code = (row.get("Code") or "").strip()
        if not code:
            continue
        spec = (row.get("Specialization") or "").strip()
        cls = (row.get("Classification") or "").strip()
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
        raise BuildError("NUCC taxonomy CSV has no codes", str(path))
    return NuccTable(version=version_from_name(path), path=str(path), codes=codes)
