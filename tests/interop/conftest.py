"""Medplum's FHIR engine for the integration tests: installed once (npm ci under a file lock), started per module."""

import fcntl
import hashlib
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

ENGINE = Path(__file__).resolve().parent / "fhir-engine"
MIN_NODE = (20, 19)


def _node_version() -> tuple[int, ...] | None:
    node = shutil.which("node")
    if not node:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.match(r"v(\d+)\.(\d+)", out.strip())
    return tuple(int(x) for x in found.groups()) if found else None


def _installed() -> bool:
    # npm writes node_modules/.package-lock.json last: without it an install was interrupted.
    return (ENGINE / "node_modules" / ".package-lock.json").is_file() and \
        (ENGINE / "node_modules" / "@medplum" / "fhir-router" / "package.json").is_file()


@pytest.fixture(scope="session")
def fhir_engine_dir() -> Path:
    """tests/interop/fhir-engine with its pinned npm dependencies installed (the project's install step)."""
    version = _node_version()
    if version is None:
        pytest.skip("node is not installed: the Medplum FHIR engine tests need Node >= 20.19")
    if version < MIN_NODE:
        pytest.skip(f"Node {'.'.join(map(str, version))} is too old for @medplum 4.5.2 (needs >= 20.19)")
    if not _installed():
        npm = shutil.which("npm")
        if not npm:
            pytest.skip("npm is not installed: cannot install the Medplum FHIR engine")
        # Two xdist workers may get here at once: the first installs, the second waits and finds it done.
        digest = hashlib.sha1(str(ENGINE).encode()).hexdigest()[:12]  # the same in every worker process
        lock_path = Path(tempfile.gettempdir()) / f"fhir-ire-npm-{digest}.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _installed():
                done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=ENGINE,
                                      capture_output=True, text=True, timeout=600)
                if done.returncode != 0 and re.search(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET",
                                                      done.stderr):
                    pytest.skip("cannot reach the npm registry to install the Medplum FHIR engine (npm ci)")
                if done.returncode != 0:
                    pytest.fail(f"npm ci in {ENGINE} failed:\n{done.stderr[-2000:]}")
    return ENGINE


class Engine:
    """One `node server.mjs` process: an empty in-memory FHIR R4 store at .base."""

    def __init__(self, folder: Path, log: Path, **env):
        self.log = log
        environment = {**os.environ, "PORT": "0", "VALIDATE": "1", **{k: str(v) for k, v in env.items()}}
        self.stderr = open(log, "w")
        self.process = subprocess.Popen(["node", "server.mjs"], cwd=folder, env=environment,
                                        stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        # "listening <port>", printed once the socket is bound (the definitions take about a second to index)
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else ""
        found = re.match(r"listening (\d+)", line)
        if not found:
            self.stop()
            raise RuntimeError(f"the FHIR engine did not start: {line!r} {log.read_text()[-2000:]}")
        self.base = f"http://127.0.0.1:{found.group(1)}/fhir/R4"
        deadline = time.monotonic() + 15
        while True:
            try:
                if requests.get(f"{self.base}/metadata", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the FHIR engine at {self.base} never answered /metadata")
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process.stdout.close()
        self.stderr.close()


@pytest.fixture(scope="session")
def start_engine(fhir_engine_dir, tmp_path_factory):
    """start_engine(**env) -> Engine; every engine started is stopped at the end of the session."""
    engines = []

    def start(**env) -> Engine:
        engine = Engine(fhir_engine_dir, tmp_path_factory.mktemp("engine") / "stderr.log", **env)
        engines.append(engine)
        return engine

    yield start
    for engine in engines:
        engine.stop()


@pytest.fixture(scope="module")
def medplum(start_engine):
    """A fresh Medplum engine (VALIDATE=1) for one test module; its base URL."""
    engine = start_engine()
    yield engine.base
    engine.stop()
