"""What the HTTP benchmarks share: wrk (Debian's, installed when missing), servers started and stopped by process
group, the servers' CPU time read from /proc, and wrk's report parsed (requests/s, p50, p99, errors)."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ensure_wrk() -> str:
    """wrk from Debian's packages (apt-get), installed once when missing."""
    if not shutil.which("wrk"):
        print("installing wrk (apt-get install wrk) ...", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (granian's workers are child processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree, from /proc/<pid>/stat."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


@contextmanager
def server(cmd: list[str], port: int, env: dict | None = None, ready: str = "/health", timeout: float = 300,
           cwd: Path = ROOT):
    """Start a server (its own process group), wait until `ready` answers, yield its pid, stop the whole group."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=log,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {' '.join(cmd)}\n{log.read().decode(errors='replace')[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not answer within {timeout} s: {' '.join(cmd)}") from None
                time.sleep(0.2)
        yield proc.pid
    finally:
        stop_group(proc, signal.SIGINT, timeout=10)
        log.close()


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Stop a server started in its own process group: sig, then SIGKILL after timeout seconds."""
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "requests": int(re.search(r"(\d+) requests in", out).group(1)),
              "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
              "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, socket_errors.groups()))
                                                                   if socket_errors else 0)
    return result


def run_wrk(url: str, pid: int, body: dict | None = None, seconds: int = 10, connections: int = 32,
            threads: int = 2) -> dict:
    """wrk against url (POST of body as JSON when given); adds the server's CPU time per request."""
    script = None
    args = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                     f"wrk.body = {json.dumps(json.dumps(body))}\n")
        script.close()
        args[1:1] = ["-s", script.name]
    try:
        before = cpu_seconds(pid)
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        result = parse_wrk(out)
        result["cpu_ms"] = (cpu_seconds(pid) - before) * 1000 / max(result["requests"], 1)
    finally:
        if script:
            os.unlink(script.name)
    return result


def warm(url: str, body: dict | None = None, n: int = 20) -> None:
    """A few requests first: each worker loads lazily what it needs."""
    data = json.dumps(body).encode() if body is not None else None
    for _ in range(n):
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
