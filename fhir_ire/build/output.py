"""Writing the build's output folder: built aside then swapped in, so a failed build never leaves a half-written
folder, and never deleting a file the build did not write. A marker file lists what the last build wrote."""

import filecmp
import shutil
import tempfile
from pathlib import Path

from fhir_ire.errors import BuildError
from fhir_ire.r4 import dump_bytes

MARKER = ".fhir-ire-build"
MARKER_HEADER = "# written by `fhir-ire build`; every file it wrote to this folder, one per line\n"


class Deferred:
    """A file whose JSON data is made only when it is written, and dropped after (a document's facts)."""

    def __init__(self, make):
        self.make = make

    def write_to(self, path: Path) -> None:
        path.write_bytes(dump_bytes(self.make()))


def write_tree(folder: Path, files: dict[str, object]) -> None:
    """files: relative path -> JSON data, or an object that writes itself (write_to: a Deferred, a SpooledBundle)."""
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(data, "write_to"):
            data.write_to(path)
        else:
            path.write_bytes(dump_bytes(data))  # bytes straight to the file: no text copy of a large bundle


def files_in(folder: Path) -> set[str]:
    """Relative paths of everything but folders under folder (links and special files included)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_symlink() or not p.is_dir()}


def written_before(out: Path) -> set[str]:
    """What a previous build says it wrote to out (empty without a marker)."""
    try:
        text = (out / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def check_replaceable(out: Path, files: dict[str, object]) -> None:
    """out may be replaced only when everything in it was written by a build (listed in its marker) or is about to
    be rewritten by this one; anything else is a user's file and the build refuses rather than delete it."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BuildError("output is not a folder", str(out))
    if not out.exists():
        return
    foreign = sorted(files_in(out) - written_before(out) - set(files) - {MARKER})
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise BuildError(f"output folder holds files fhir-ire build did not write ({shown}); move them away or "
                         f"choose another --out", str(out))


def write_atomically(out: Path, files: dict[str, object]) -> None:
    """Write into a sibling temporary folder, then swap it in: a failed build never leaves a half-written out."""
    out = Path(out).absolute()
    check_replaceable(out, files)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as e:
        raise BuildError(f"cannot write output: {e.strerror}", str(out)) from None
    tmp.chmod(0o755)  # mkdtemp makes it private; the output is for everyone to read
    try:
        write_tree(tmp, files)
        (tmp / MARKER).write_text(MARKER_HEADER + "".join(f"{rel}\n" for rel in sorted(files)), encoding="utf-8")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}-old-{tmp.name[-8:]}")
            out.rename(old)
        tmp.rename(out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"cannot write output: {e.strerror or e}", str(out)) from None
    except BaseException:  # whatever stops the writing (an error, ^C), the half-written folder goes
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def diff_tree(out: Path, files: dict[str, object]) -> list[str]:
    """Relative paths where out differs from files (missing, extra or changed); the marker is not compared."""
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(Path(tmp), files)
        fresh = files_in(Path(tmp))
        have = files_in(out) - {MARKER} if out.is_dir() else set()
        changed = [f for f in fresh & have if not filecmp.cmp(Path(tmp) / f, out / f, shallow=False)]
        return sorted((fresh ^ have) | set(changed))
