"""Start-up time and memory of `fhir-ire serve` (preloading on and off) and the time of `fhir-ire build` on the seeds,
side by side in one run, for this checkout or for several (`--tree DIR`, e.g. a `git worktree` of main: before/after).

For each tree and mode: seconds from the command to the first 200 of /health/ready (ready) and of an ICD-10-CM
$lookup (the heaviest code system), the CPU seconds the server's processes spent until then, and the resident (RSS)
and proportional (PSS: shared pages divided among their sharers) memory of the main process and each worker after 50
requests. Rounds alternate between trees and modes, so that the machine's load falls on all alike; the load average
is printed. The ICD-10-CM table cache (fhir_ire/codesets/icd10cm_cache.py) is warm unless --cold-cache, which
gives each round an empty cache folder (the first start on a machine).

Usage: python benchmarks/startup.py [--workers 2] [--rounds 3] [--tree DIR ...] [--cold-cache] [--no-build]
"""

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from serving import stop_group

ROOT = Path(__file__).resolve().parent.parent
READY = "/health/ready"
LOOKUP = "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=C25.0"
TICK = os.sysconf("SC_CLK_TCK")


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


def cpu(pid: int) -> float:
    """User + system CPU seconds of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def environment(tree: Path, cache: str | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # this tree's fhir_ire, whatever the venv has installed
    if cache:
        env["XDG_CACHE_HOME"] = cache
    return env


def wait_for(url: str, proc: subprocess.Popen) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"fhir-ire serve stopped (exit {proc.returncode})")
            time.sleep(0.02)


def measure(tree: Path, preload: bool, workers: int, cache: str | None) -> dict:
    port = free_port()
    cmd = [sys.executable, "-m", "fhir_ire.cli", "serve", "--port", str(port), "--workers", str(workers),
           "--preload", "true" if preload else "false", "--log-level", "warning"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=environment(tree, cache), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + READY, proc)
        ready = time.perf_counter() - started
        wait_for(base + LOOKUP, proc)
        first = time.perf_counter() - started
        cpu_s = sum(cpu(p) for p in [proc.pid, *children(proc.pid)])
        time.sleep(1.0)  # let every worker come up
        for _ in range(50):
            urllib.request.urlopen(base + LOOKUP, timeout=5).read()
        main = memory(proc.pid)
        worker_mem = [memory(w) for w in children(proc.pid)]
        return {"ready_s": ready, "first_200_s": first, "cpu_s": cpu_s, "main": main, "workers": worker_mem,
                "total_pss": main[1] + sum(p for _, p in worker_mem)}
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (a worker still loading finishes first), then SIGKILL after a minute."""
    stop_group(proc, signal.SIGTERM, timeout=60)


def measure_build(tree: Path, cache: str | None) -> dict:
    """`fhir-ire build` of the tree's seeds into a temporary folder: wall and CPU seconds."""
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fhir_ire.cli", "build", "--out", f"{out}/bundles"], cwd=tree,
                       env=environment(tree, cache), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "cpu_s": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime}


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def seconds(runs: list[dict], key: str) -> str:
    return f"[{', '.join(f'{r[key]:.2f}' for r in runs)}] s (median {median([r[key] for r in runs]):.2f})"


def report(label: str, runs: list[dict]) -> None:
    best = min(runs, key=lambda r: r["first_200_s"])
    workers = "; ".join(f"RSS {rss:.0f} PSS {pss:.0f}" for rss, pss in best["workers"])
    print(f"  {label} ready {seconds(runs, 'ready_s')}, first 200 {seconds(runs, 'first_200_s')}, CPU until then "
          f"{seconds(runs, 'cpu_s')}\n    MB: main RSS {best['main'][0]:.0f} PSS {best['main'][1]:.0f}, workers "
          f"{workers}, total PSS {best['total_pss']:.0f}")


def warm(tree: Path) -> None:
    """Load ICD-10-CM once, so that a warm cache is what is measured."""
    subprocess.run([sys.executable, "-c", "from fhir_ire.codesets import icd10cm; icd10cm.all_codes()"], cwd=tree,
                   env=environment(tree, None), check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to measure (repeatable; default: "
                        "this one)")
    parser.add_argument("--cold-cache", action="store_true", help="an empty ICD-10-CM cache folder for each start")
    parser.add_argument("--no-build", action="store_true", help="measure serve only")
    args = parser.parse_args()
    trees = [t.resolve() for t in args.tree or [ROOT]]
    for tree in trees if not args.cold_cache else []:
        warm(tree)
    print(f"fhir-ire serve --workers {args.workers} and fhir-ire build: {args.rounds} rounds, alternating; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    serve = {(t, p): [] for t in trees for p in (True, False)}
    build = {t: [] for t in trees}
    with tempfile.TemporaryDirectory() as caches:
        def cache():
            return tempfile.mkdtemp(dir=caches) if args.cold_cache else None

        for _ in range(args.rounds):
            for tree in trees:
                for preload in (True, False):
                    serve[tree, preload].append(measure(tree, preload, args.workers, cache()))
                if not args.no_build:
                    build[tree].append(measure_build(tree, cache()))
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    for tree in trees:
        print(tree)
        for preload in (True, False):
            report("preload=on " if preload else "preload=off", serve[tree, preload])
        if build[tree]:
            print(f"  build (seeds) wall {seconds(build[tree], 'wall_s')}, CPU {seconds(build[tree], 'cpu_s')}")


if __name__ == "__main__":
    main()
