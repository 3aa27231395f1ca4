"""Build time, peak memory and output size as the documents grow: the seeds plus generated mixed documents
(benchmarks/corpus.py) at each size, and optionally 10,000 generated payer policies; each build is a fresh
`fhir-ire build` process, measured with wait4 (wall time, peak resident memory).

    .venv/bin/python benchmarks/build_scale.py [--sizes 100 1000] [--policies 10000] [--work DIR]
                                               [--compare CHECKOUT]

Time per document should stay flat from 100 to 1,000 (the build is linear), memory bounded."""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from corpus import generate
from serving import ROOT


def measure_build(seeds: Path, out: Path, source: Path | None = None, jobs: int | None = None) -> dict:
    """wait4's figures cover the build and its reading workers: CPU summed, peak the largest single process."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    command = [sys.executable, "-m", "fhir_ire.cli", "build", "--seeds", str(seeds), "--out", str(out)]
    proc = subprocess.Popen(command + (["--jobs", str(jobs)] if jobs else []),
                            cwd=source or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    if status != 0:
        raise SystemExit(f"build of {seeds} failed: {proc.stderr.read().decode(errors='replace')[-500:]}")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "out_mb": size / 1e6, "documents": sum(1 for _ in seeds.iterdir())}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[100, 1000], help="mixed documents beside the seeds")
    p.add_argument("--policies", type=int, default=0, help="also build this many generated payer policies")
    p.add_argument("--work", type=Path, default=Path("/tmp/fhir-ire-build-bench"))
    p.add_argument("--compare", type=Path, metavar="CHECKOUT", help="build with another checkout's code instead")
    p.add_argument("--jobs", type=int, help="fhir-ire build --jobs (default: the build's own)")
    args = p.parse_args(argv)
    runs = [("seeds", 0, "mixed")] + [(f"mixed-{n}", n, "mixed") for n in args.sizes]
    if args.policies:
        runs.append((f"policies-{args.policies}", args.policies, "policy"))
    print(f"{'corpus':18} {'documents':>9} {'wall s':>8} {'CPU s':>8} {'ms/doc':>8} {'peak MB':>8} {'output MB':>9} "
          f"{'KB/doc':>8} {'load':>5}")
    for name, n, kind in runs:
        seeds = args.work / name
        shutil.rmtree(seeds, ignore_errors=True)
        generate(seeds, n, kind=kind, with_seeds=True)
        r = measure_build(seeds, args.work / f"{name}-out", args.compare, args.jobs)
        print(f"{name:18} {r['documents']:9d} {r['seconds']:8.1f} {r['cpu']:8.1f} "
              f"{r['cpu'] * 1000 / r['documents']:8.1f} {r['peak_mb']:8.0f} {r['out_mb']:9.1f} "
              f"{r['out_mb'] * 1000 / r['documents']:8.1f} {os.getloadavg()[0]:5.1f}", flush=True)


if __name__ == "__main__":
    main()
