"""Stop signals under `fhir-ire serve` (serve.forward_stop_signals): SIGINT and SIGTERM reach granian's handler
whichever thread the kernel gives them to. Before, a signal given to a thread other than the main one (a request
thread, granian's own, a worker watcher) was noted and never handled: a worker kept serving until the drain timeout
killed it, and a main process whose signal went astray did not stop at all."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads thread signal masks in /proc")]
STOPS = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
LOOKUP = "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=C25.0"


def start(log: Path, port: int, *args: str) -> subprocess.Popen:
    """fhir-ire serve with 2 workers in a session of its own (so that the group can be signalled), output to log."""
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "fhir_ire.cli", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--bundles", str(ROOT / "bundles"), "--workers", "2", *args],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


@contextmanager
def served(log: Path, *args: str):
    """fhir-ire serve with 2 workers (each given a few requests, so that request threads exist); yields the main
    process. Whatever is still running at the end is killed."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(log, port, *args)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
        for _ in range(8):
            urllib.request.urlopen(base + LOOKUP, timeout=30).read()
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def processes(main: int) -> list[int]:
    """The main process and its workers."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(main)], capture_output=True, text=True).stdout
    return [main, *(int(p) for p in out.split())]


def receiving_threads(pid: int) -> list[int]:
    """The threads of pid that do not block SIGINT and SIGTERM: where the kernel may deliver them."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines() if ":\t" in line)
        if int(status["SigBlk"], 16) & STOPS != STOPS:
            found.append(int(task.name))
    return found


def test_in_every_process_one_thread_receives_the_stop_signals_and_it_is_not_the_main_one(tmp_path):
    with served(tmp_path / "serve.log") as proc:
        every = processes(proc.pid)
        assert len(every) == 3, every
        for pid in every:
            receiving = receiving_threads(pid)
            assert len(receiving) == 1 and receiving != [pid], (pid, receiving, os.listdir(f"/proc/{pid}/task"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT to the group", "SIGTERM to main"])
def test_a_stop_signal_stops_every_process_gracefully(tmp_path, sig):
    log = tmp_path / "serve.log"
    with served(log, "--drain-timeout", "600") as proc:  # a worker that missed it would serve on for 600 s
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # as Ctrl-C in a terminal
        else:
            os.kill(proc.pid, sig)  # as a service manager
        assert proc.wait(timeout=120) == 0, log.read_text()[-2000:]
    text = log.read_text()
    assert "refused to gracefully stop" not in text and "Traceback" not in text, text[-2000:]


def test_a_stop_signal_while_the_workers_start_stops_every_process(tmp_path):
    """Ctrl-C as the workers are spawned: a worker forked as the signal arrives still has its parent's handler when
    it is given the signal, so the stop is given again until its own handler takes it (serve._forward)."""
    log = tmp_path / "serve.log"
    proc = start(log, free_port(), "--drain-timeout", "600")
    try:
        deadline = time.monotonic() + 60
        while "Spawning worker-2" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 0, log.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "refused to gracefully stop" not in log.read_text()
