"""Start-up time and memory of `fhir-ire serve`, with and without preloading, side by side in one run.

For each mode: seconds from the command to the first 200 of an ICD-10-CM $lookup (the heaviest code system), then
the resident (RSS) and proportional (PSS: shared pages divided among their sharers) memory of the main process and
each worker, after 50 requests. Usage: python benchmarks/startup.py [--workers 2] [--rounds 3]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOKUP = "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=C25.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return fields["Rss"], fields["Pss"]


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def measure(preload: bool, workers: int) -> dict:
    port = free_port()
    cmd = [sys.executable, "-m", "fhir_ire.cli", "serve", "--port", str(port), "--workers", str(workers),
           "--preload", "true" if preload else "false", "--log-level", "warning"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}{LOOKUP}"
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("fhir-ire serve stopped")
                time.sleep(0.02)
        first = time.perf_counter() - started
        time.sleep(1.0)  # let every worker come up
        for _ in range(50):
            urllib.request.urlopen(url, timeout=5).read()
        main = memory(proc.pid)
        worker_mem = [memory(w) for w in children(proc.pid)]
        return {"first_200_s": first, "main": main, "workers": worker_mem,
                "total_pss": main[1] + sum(p for _, p in worker_mem)}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"fhir-ire serve --workers {args.workers}: {args.rounds} rounds per mode, alternating")
    results = {True: [], False: []}
    for _ in range(args.rounds):
        for preload in (True, False):
            results[preload].append(measure(preload, args.workers))
    for preload, runs in results.items():
        best = min(runs, key=lambda r: r["first_200_s"])
        times = ", ".join(f"{r['first_200_s']:.2f}" for r in runs)
        workers = "; ".join(f"RSS {rss:.0f} MB PSS {pss:.0f} MB" for rss, pss in best["workers"])
        print(f"preload={'on ' if preload else 'off'} first 200 after [{times}] s | main RSS {best['main'][0]:.0f} MB "
              f"PSS {best['main'][1]:.0f} MB | workers: {workers} | total PSS {best['total_pss']:.0f} MB")


if __name__ == "__main__":
    main()
