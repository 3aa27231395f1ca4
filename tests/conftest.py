"""Shared fixtures: paths to the project, its seeds and bundles, and ../shared when it is beside the clone."""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

# The CDS Hooks audit store's default file lives under $XDG_STATE_HOME: tests never write into the real home folder.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="fhir-ire-test-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], True)
# The ICD-10-CM table cache (fhir_ire/codesets/icd10cm_cache.py) too: built once per test process, shared by the
# servers and builds it starts.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="fhir-ire-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)  # 10 MB per test process

ROOT = Path(__file__).resolve().parent.parent
REPORTS = "PYTEST_END_REPORTS"  # folder where tests leave lines to print at the end of the run
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this clone (full NUCC CSV, FHIR schema, tx-tests run in CI)")
    return SHARED


@pytest.fixture(scope="session")
def nucc_csv(shared) -> Path:
    return shared / "reference" / "nucc_taxonomy_251.csv"


@pytest.fixture(scope="session")
def fhir_schema_path(shared) -> Path:
    return shared / "reference" / "fhir.schema.r4.json"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_process(args: list[str], log_path: Path, timeout: float = 60, port: int | None = None):
    """The real `fhir-ire serve` with args on a (free) loopback port; yields its base URL, stops it after."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "fhir_ire.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"fhir-ire serve did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def report(title: str, text: str) -> None:
    """Lines a test wants printed at the end of the run, also under pytest-xdist (counts of the HL7 terminology
    tests): pytest shows no output of passing tests, and xdist none of its workers."""
    folder = os.environ.get(REPORTS)
    if folder and Path(folder).is_dir():
        (Path(folder) / f"{len(list(Path(folder).iterdir())):03d}.txt").write_text(f"{title}\n{text}")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller; xdist workers start later and inherit the variable
        os.environ[REPORTS] = tempfile.mkdtemp(prefix="fhir-ire-reports-")


def pytest_terminal_summary(terminalreporter, config):
    folder = os.environ.get(REPORTS)
    if hasattr(config, "workerinput") or not folder or not Path(folder).is_dir():
        return
    for path in sorted(Path(folder).glob("*.txt")):
        title, _, text = path.read_text().partition("\n")
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(text.rstrip())
    shutil.rmtree(folder, ignore_errors=True)
