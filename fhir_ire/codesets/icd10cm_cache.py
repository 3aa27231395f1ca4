"""The ICD-10-CM table derived once from the simple-icd-10-cm package and kept on disk, so that a process loads it in
about 0.1 s instead of importing the package (which parses its 10 MB XML release at import: about 2.5 s of CPU).

The file is JSON in the user cache folder (`$XDG_CACHE_HOME/fhir-ire`, default `~/.cache/fhir-ire`), named by the
package version and holding a key (the package version, the names and sizes of its data files, our format). It is
rebuilt from the package when missing, stale or unreadable, and written atomically (a temporary file renamed), so
processes starting together never read half a file. When the folder cannot be written, the table is derived in
memory each time (slower, never wrong)."""

import importlib.util
import json
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from fhir_ire.errors import IreError

PACKAGE = "simple_icd_10_cm"
FORMAT = 1  # bump when derive() changes what it writes: every cached file becomes stale
log = logging.getLogger("fhir_ire.codesets")


@lru_cache(maxsize=1)
def package_dir() -> Path:
    """The package's folder, found without importing it (the import is the slow part)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise IreError("the simple-icd-10-cm package is not installed (pip install simple-icd-10-cm)")
    return Path(spec.submodule_search_locations[0])


def package_version() -> str:
    dist = sorted(package_dir().parent.glob(f"{PACKAGE}-*.dist-info"))
    return dist[-1].name[len(PACKAGE) + 1:-len(".dist-info")] if dist else "unknown"


def cache_key() -> dict:
    files = sorted(p for p in (package_dir() / "data").iterdir() if p.suffix in (".xml", ".txt"))
    files.append(package_dir() / f"{PACKAGE}.py")
    return {"format": FORMAT, "package": package_version(),
            "files": [[p.name, p.stat().st_size] for p in files if p.is_file()]}


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fhir-ire"


def cache_path() -> Path:
    return cache_folder() / f"icd10cm-{package_version()}.json"


def derive() -> dict:
    """The table from the package's public API: every category and subcategory once, in classification order (a
    pre-order walk, so each code's descendants are the codes right after it, up to `ends`), with its title, parent
    position (-1 at category level: chapters and blocks are not codes) and inclusion terms."""
    import simple_icd_10_cm as icd

    # a block named like its only category (B10, Z68 ...) is listed too; the name means the category
    codes = list(dict.fromkeys(c for c in icd.get_all_codes(with_dots=True) if icd.is_category_or_subcategory(c)))
    position = {c: i for i, c in enumerate(codes)}
    parents = []
    for code in codes:
        p = None if icd.is_category(code) else icd.get_parent(code)  # a category's parent is a block or chapter
        parents.append(position.get(p, -1) if p is not None else -1)
    ends = [i + 1 for i in range(len(codes))]
    for i in range(len(codes) - 1, -1, -1):  # children come after their parent: their ends are known first
        if parents[i] >= 0:
            ends[parents[i]] = max(ends[parents[i]], ends[i])
    return {"codes": codes, "displays": [icd.get_description(c) for c in codes], "parents": parents,
            "ends": ends, "inclusion": {c: t for c in codes if (t := icd.get_inclusion_term(c))}}


def read(path: Path, key: dict) -> dict | None:
    """The cached table, or None when it is missing, stale or not what we write."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    n = len(data.get("codes") or [])
    if not n or any(len(data.get(k) or []) != n for k in ("displays", "parents", "ends")):
        return None
    return data


def write(path: Path, data: dict) -> None:
    """Write atomically: a temporary file in the same folder, renamed over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load() -> dict:
    """The table: from the cache when it is current, otherwise derived from the package and cached."""
    key, path = cache_key(), cache_path()
    data = read(path, key)
    if data is not None:
        return data
    data = {"key": key, **derive()}
    try:
        write(path, data)
    except OSError as e:
        log.warning("cannot cache the ICD-10-CM table in %s (%s): it is derived from simple-icd-10-cm at each "
                    "start", path.parent, e.strerror or e)
    return data
