"""The real `fhir-ire serve` as a process whose output the tests read line by line."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ..conftest import ROOT, free_port


class Server:
    """`fhir-ire serve ARGS` in its own process group, its output collected line by line."""

    def __init__(self, *args, port=None, env=None):
        self.port = port or free_port()
        cmd = [sys.executable, "-m", "fhir_ire.cli", "serve", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                                     start_new_session=True, env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60, start: int = 0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in self.lines[start:] if text in line), None)
            if found:
                return found
            if self.proc.poll() is not None:
                time.sleep(0.2)
                break
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r}; output:\n" + "\n".join(self.lines[-40:]))

    def workers(self) -> set[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return {int(p) for p in out.stdout.split()}

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def serve():
    started = []

    def start(*args, **kw):
        server = Server(*args, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
