"""Fault: mixed traffic against the real server (loopback only) while one worker is killed with SIGKILL. Prints how
long until a new worker takes its place, and the requests answered and failed before the kill, between the kill and
the replacement, and after it; the goals are a replacement within 5 s and no failed request after it (a request the
killed worker was answering at that instant may fail). The exit status is 1 when a goal is missed.

    .venv/bin/python benchmarks/fault.py [--seconds 30] [--kill-at 10] [--clients 8] [--workers 2]"""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import ROOT, Recorder, run_load, start_server, stop_server, traffic  # noqa: E402


def workers(proc) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(proc.pid).children() if "resource_tracker" not in " ".join(p.cmdline())}
    except psutil.NoSuchProcess:
        return set()


class Fault:
    """Kills one worker at kill_at seconds and watches for its replacement."""

    def __init__(self, proc, kill_at: float, rec: Recorder):
        self.proc, self.kill_at, self.rec = proc, kill_at, rec
        self.before = workers(proc)
        self.killed, self.killed_at, self.back_at, self.counts_at_kill = None, None, None, None

    def __call__(self, elapsed: float) -> None:
        if self.killed is None and elapsed >= self.kill_at:
            self.killed = sorted(self.before)[0]
            self.counts_at_kill = self.counts()
            os.kill(self.killed, signal.SIGKILL)
            self.killed_at = time.monotonic()
        elif self.killed is not None and self.back_at is None:
            now = workers(self.proc)
            if len(now) >= len(self.before) and self.killed not in now:
                self.back_at = time.monotonic()
                self.counts_at_back = self.counts()

    def counts(self) -> tuple[int, int]:
        with self.rec.lock:
            return sum(len(v) for v in self.rec.latencies.values()), sum(self.rec.errors.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--kill-at", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bundles", type=Path, default=ROOT / "bundles")
    args = parser.parse_args()
    plan = traffic(args.bundles)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"fhir-ire-fault-{os.getpid()}.log"
    proc, port = start_server(args.bundles, args.workers, log)
    rec = Recorder()
    try:
        fault = Fault(proc, args.kill_at, rec)
        if len(fault.before) != args.workers:
            print(f"expected {args.workers} workers, found {len(fault.before)}")
        seconds = run_load(proc, port, plan, args.seconds, args.clients, rec, during=fault)
        final = fault.counts()
    finally:
        stop_server(proc)
    print(f"fhir-ire serve --workers {args.workers}, {args.clients} clients, load average {os.getloadavg()[0]:.1f}")
    print(f"killed worker {fault.killed} (SIGKILL) at {args.kill_at:.0f} s of {seconds:.0f} s")
    done_kill, err_kill = fault.counts_at_kill
    print(f"before the kill: {done_kill} requests, {err_kill} failed")
    if fault.back_at is None:
        print(f"no worker replaced it within the run; after the kill: {final[0] - done_kill} requests, "
              f"{final[1] - err_kill} failed")
        print("goals (replacement within 5 s, no failure after it): MISSED")
        return 1
    back = fault.back_at - fault.killed_at
    done_back, err_back = fault.counts_at_back
    print(f"a new worker replaced it after {back:.2f} s")
    print(f"between the kill and the replacement: {done_back - done_kill} requests, {err_back - err_kill} failed")
    print(f"after the replacement: {final[0] - done_back} requests, {final[1] - err_back} failed")
    ok = back < 5 and final[1] == err_back
    print("goals (replacement within 5 s, no failure after it): " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
