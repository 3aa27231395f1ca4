"""Shared fixtures: paths to the project, its seeds and bundles, and ../shared when it is beside the clone."""

import os
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

ROOT = Path(__file__).resolve().parent.parent
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
