"""The server side (web, terminology, crd, store) only reads bundles: it never imports the readers or the build."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fhir_ire"
SERVER_SIDE = ["web", "terminology", "crd", "store.py", "app.py", "serve.py"]
BUILD_SIDE = ("fhir_ire.sources", "fhir_ire.build", "fhir_ire.checks", "fhir_ire.facts")


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def server_files():
    for part in SERVER_SIDE:
        path = PACKAGE / part
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


@pytest.mark.parametrize("path", list(server_files()), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_server_side_never_imports_the_build(path):
    bad = {n for n in imports_of(path) if n.startswith(BUILD_SIDE)}
    assert bad == set(), f"{path.name} imports {sorted(bad)}"


def test_only_r4_imports_fhir_resources():
    users = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
             if any(n.startswith("fhir.resources") for n in imports_of(p))}
    assert users <= {"r4.py"}
