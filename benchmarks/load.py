"""Load: mixed traffic (terminology operations, CDS hooks, feedback) against the real server (`fhir-ire serve`,
granian, loopback only) for a fixed time, with the server's memory (RSS of the main process and its workers)
sampled every 5 s. Prints throughput, latency percentiles per kind, errors, and memory at start and end; the goals
are 0 errors and memory growth under 5 %. The exit status is 1 when a goal is missed.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--clients 8] [--workers 2] [--bundles bundles]

The requests are built from the bundles (a code and a map of ours, a payer's name), so they follow a rebuild."""

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bundles: Path, workers: int, log_path: Path, extra=()) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [sys.executable, "-m", "fhir_ire.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--bundles", str(bundles), *extra]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/health")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    stop_server(proc)
    raise SystemExit(f"the server did not start: {log_path.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def request(port: int, method: str, path: str, body: dict | None = None, conn=None) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        if own:
            conn.close()


def server_rss(proc: subprocess.Popen) -> int:
    """Bytes resident in the server: the main process and every worker."""
    try:
        main = psutil.Process(proc.pid)
        return sum(p.memory_info().rss for p in [main, *main.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


def traffic(bundles: Path) -> list[tuple[str, str, str, dict | None]]:
    """(kind, method, path, body) requests made from what the bundles hold."""
    resources = [e["resource"] for f in sorted(bundles.glob("*.json"))
                 for e in json.loads(f.read_text()).get("entry", [])]
    maps = [r for r in resources if r["resourceType"] == "ConceptMap" and r.get("group")]
    group = maps[0]["group"][0]
    code, system = group["element"][0]["code"], group["source"]
    valueset = next(r["url"] for r in resources if r["resourceType"] == "ValueSet")
    payer = next(r["name"] for r in resources if r["resourceType"] == "Organization" and r.get("name"))
    order = {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft", "intent": "order",
             "code": {"coding": [{"system": system, "code": code}]}, "subject": {"reference": "Patient/p1"}}
    hook = {"hook": "order-sign", "hookInstance": "0b9c7c4e-5d7a-4c55-a2a5-2b1f3c1d9e01",
            "context": {"userId": "Practitioner/1", "patientId": "p1",
                        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}},
            "prefetch": {"coverage": {"resourceType": "Coverage", "id": "c1", "status": "active",
                                      "beneficiary": {"reference": "Patient/p1"}, "payor": [{"display": payer}]}}}
    feedback = {"feedback": [{"card": "0b9c7c4e-0000-4c55-a2a5-2b1f3c1d9e01", "outcome": "accepted",
                              "outcomeTimestamp": "2026-01-15T10:00:00Z"}]}
    q = lambda s: quote(s, safe="")  # noqa: E731
    return [
        ("lookup", "GET", f"/fhir/CodeSystem/$lookup?system={q(system)}&code={q(code)}", None),
        ("translate", "GET", f"/fhir/ConceptMap/$translate?url={q(maps[0]['url'])}&system={q(system)}&code={q(code)}",
         None),
        ("validate-code", "GET", f"/fhir/ValueSet/$validate-code?url={q(valueset)}&system={q(system)}&code={q(code)}",
         None),
        ("expand", "GET", f"/fhir/ValueSet/$expand?url={q(valueset)}&count=20", None),
        ("hook", "POST", "/cds-services/order-sign-crd", hook),
        ("feedback", "POST", "/cds-services/order-sign-crd/feedback", feedback),
    ]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[tuple[float, int]] = []


def client(port: int, plan, stop: threading.Event, rec: Recorder, offset: int) -> None:
    conn, n = None, offset
    while not stop.is_set():
        kind, method, path, body = plan[n % len(plan)]
        n += 1
        started = time.perf_counter()
        try:
            conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status, _ = request(port, method, path, body, conn)
            ok = 200 <= status < 300
        except (OSError, http.client.HTTPException):
            ok, conn = False, None
        elapsed = time.perf_counter() - started
        with rec.lock:
            rec.latencies[kind].append(elapsed)
            if not ok:
                rec.errors[kind] += 1


def run_load(proc, port: int, plan, seconds: float, clients: int, rec: Recorder, during=None) -> float:
    """Traffic from `clients` threads for `seconds`, RSS every 5 s; `during(elapsed)` is called every 0.1 s."""
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(port, plan, stop, rec, i), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    next_sample = started
    while (elapsed := time.monotonic() - started) < seconds:
        if time.monotonic() >= next_sample:
            rec.samples.append((elapsed, server_rss(proc)))
            next_sample += 5
        if during:
            during(elapsed)
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(timeout=35)
    rec.samples.append((time.monotonic() - started, server_rss(proc)))
    return time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def report(rec: Recorder, seconds: float) -> tuple[int, float]:
    total = sum(len(v) for v in rec.latencies.values())
    errors = sum(rec.errors.values())
    print(f"{total} requests in {seconds:.1f} s: {total / seconds:.0f} requests/s, {errors} errors")
    print(f"{'kind':14} {'count':>7} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, values in sorted(rec.latencies.items()):
        print(f"{kind:14} {len(values):7} {rec.errors[kind]:7} {statistics.median(values) * 1000:8.1f} "
              f"{percentile(values, 0.99) * 1000:8.1f} {max(values) * 1000:8.1f}")
    every = [v for values in rec.latencies.values() for v in values]
    print(f"{'all':14} {total:7} {errors:7} {statistics.median(every) * 1000:8.1f} "
          f"{percentile(every, 0.99) * 1000:8.1f} {max(every) * 1000:8.1f}")
    print("RSS (MB) every 5 s: " + ", ".join(f"{rss / 2**20:.0f}" for _, rss in rec.samples))
    start, end = rec.samples[0][1], rec.samples[-1][1]
    growth = (end - start) / start * 100 if start else 0.0
    print(f"memory: {start / 2**20:.1f} MB at start, {end / 2**20:.1f} MB at end ({growth:+.1f} %)")
    return errors, growth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bundles", type=Path, default=ROOT / "bundles")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of traffic before memory is measured")
    args = parser.parse_args()
    plan = traffic(args.bundles)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"fhir-ire-load-{os.getpid()}.log"
    proc, port = start_server(args.bundles, args.workers, log)
    try:
        run_load(proc, port, plan, args.warmup, args.clients, Recorder())
        rec = Recorder()
        seconds = run_load(proc, port, plan, args.seconds, args.clients, rec)
    finally:
        stop_server(proc)
    print(f"fhir-ire serve --workers {args.workers}, {args.clients} clients, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    errors, growth = report(rec, seconds)
    ok = errors == 0 and growth < 5
    print("goals (0 errors, memory growth < 5 %): " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
