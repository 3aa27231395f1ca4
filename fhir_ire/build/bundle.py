"""Transaction Bundles with PUT entries, and writing an output folder atomically (build aside, then swap)."""

import filecmp
import shutil
import tempfile
from pathlib import Path

from fhir_ire.errors import BuildError
from fhir_ire.r4 import dump

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


def write_tree(folder: Path, files: dict[str, object]) -> None:
    """files: relative path -> JSON data."""
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(data), encoding="utf-8")


def write_atomically(out: Path, files: dict[str, object]) -> None:
    """Write into a sibling temporary folder, then swap it in: a failed build never leaves a half-written out."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the output is for everyone to read
    try:
        write_tree(tmp, files)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}-old-{tmp.name[-8:]}")
            out.rename(old)
        tmp.rename(out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"cannot write output: {e}", str(out)) from None


def diff_tree(out: Path, files: dict[str, object]) -> list[str]:
    """Relative paths where out differs from files (missing, extra or changed)."""
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(Path(tmp), files)
        fresh = {p.relative_to(tmp).as_posix() for p in Path(tmp).rglob("*") if p.is_file()}
        have = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} if out.is_dir() else set()
        changed = [f for f in fresh & have if not filecmp.cmp(Path(tmp) / f, out / f, shallow=False)]
        return sorted((fresh ^ have) | set(changed))
