"""Build time, peak memory and output size as the documents grow: the seeds plus generated mixed documents
(benchmarks/corpus.py) at each size, and optionally generated payer policies; each build is a fresh `fhir-ire build`
process, measured with wait4 (wall time, CPU, the largest single process's peak resident memory) and sampled every
0.2 s for the proportional memory (PSS) of the build and its reading workers together.

    .venv/bin/python benchmarks/build_scale.py [--sizes 100 1000] [--policies 1000 4000 10000] [--work DIR]
                                               [--compare CHECKOUT]

--compare builds every corpus with another checkout's code too, just before this one's, prints both rows and
whether the two outputs are the same bytes. Time per document should stay flat (the build is linear), memory
bounded."""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from corpus import generate
from serving import ROOT

SAMPLE_SECONDS = 0.2


def tree_of(pid: int) -> list[int]:
    """pid and every descendant (the reading workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            pass
    return out


def pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sample_tree(pid: int, peak: list[float], done: threading.Event) -> None:
    while not done.wait(SAMPLE_SECONDS):
        peak[0] = max(peak[0], sum(pss_mb(p) for p in tree_of(pid)))


def measure_build(seeds: Path, out: Path, source: Path | None = None, jobs: int | None = None,
                  as_of: str | None = None) -> dict:
    """wait4's figures cover the build and its reading workers: CPU summed, peak the largest single process; the
    sampled tree figure is the largest sum of PSS of the build and its workers at one moment."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    command = [sys.executable, "-m", "fhir_ire.cli", "build", "--seeds", str(seeds), "--out", str(out)]
    command += (["--jobs", str(jobs)] if jobs else []) + (["--as-of", as_of] if as_of else [])
    proc = subprocess.Popen(command,
                            cwd=source or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak, done = [0.0], threading.Event()
    sampler = threading.Thread(target=sample_tree, args=(proc.pid, peak, done), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    seconds = time.monotonic() - start
    if status != 0:
        raise SystemExit(f"build of {seeds} failed: {proc.stderr.read().decode(errors='replace')[-500:]}")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "tree_mb": peak[0], "out_mb": size / 1e6, "documents": sum(1 for _ in seeds.iterdir())}


def same_tree(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    return files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()) and all(
        filecmp.cmp(a / f, b / f, shallow=False) for f in files)


def row(name: str, code: str, r: dict, same: str = "") -> str:
    return (f"{name:16} {code:6} {r['documents']:9d} {r['seconds']:8.1f} {r['cpu']:8.1f} "
            f"{r['cpu'] * 1000 / r['documents']:7.1f} {r['peak_mb']:8.0f} {r['tree_mb']:8.0f} {r['out_mb']:9.1f} "
            f"{r['out_mb'] * 1000 / r['documents']:7.1f} {os.getloadavg()[0]:5.1f} {same}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[100, 1000], help="mixed documents beside the seeds")
    p.add_argument("--policies", type=int, nargs="*", default=[], help="also build this many generated payer policies")
    p.add_argument("--work", type=Path, default=Path("/tmp/fhir-ire-build-bench"))
    p.add_argument("--compare", type=Path, metavar="CHECKOUT", help="build every corpus with this checkout's code too")
    p.add_argument("--jobs", type=int, help="fhir-ire build --jobs (default: the build's own)")
    args = p.parse_args(argv)
    as_of = date.today().isoformat()  # one date for every build: a run that passes midnight compares like with like
    runs = [("seeds", 0, "mixed")] + [(f"mixed-{n}", n, "mixed") for n in args.sizes]
    runs += [(f"policies-{n}", n, "policy") for n in args.policies]
    print(f"{'corpus':16} {'code':6} {'documents':>9} {'wall s':>8} {'CPU s':>8} {'ms/doc':>7} {'peak MB':>8} "
          f"{'tree MB':>8} {'output MB':>9} {'KB/doc':>7} {'load':>5} same bytes")
    for name, n, kind in runs:
        seeds = args.work / name
        shutil.rmtree(seeds, ignore_errors=True)
        generate(seeds, n, kind=kind, with_seeds=True)
        out = args.work / f"{name}-out"
        if args.compare:
            before = measure_build(seeds, args.work / f"{name}-before", args.compare, args.jobs, as_of)
            print(row(name, "before", before), flush=True)
        after = measure_build(seeds, out, None, args.jobs, as_of)
        same = ("yes" if same_tree(args.work / f"{name}-before", out) else "NO") if args.compare else ""
        print(row(name, "after" if args.compare else "", after, same), flush=True)
        if args.compare:
            shutil.rmtree(args.work / f"{name}-before", ignore_errors=True)


if __name__ == "__main__":
    main()
