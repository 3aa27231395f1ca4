"""Request paths against the ceiling, in one run: a bare Flask endpoint served by granian exactly as `fhir-ire serve`
serves the app (benchmarks/ceiling.py), then the CRD order-sign hook in three scenarios (and, with --paths, the
terminology and read paths), with wrk: requests/s and its ratio to the ceiling, p50/p99, errors, and the
server's CPU time per request. With --scale, the same hooks again over bundles built from the seeds plus 1,000
generated mixed documents and plus 10,000 generated payer policies (benchmarks/corpus.py): cost against the seeds'.

    .venv/bin/python benchmarks/hooks.py [--seconds 10] [--connections 32] [--repeat N] [--paths] [--scale]
                                         [--work DIR] [--compare CHECKOUT]

Run it on an otherwise idle machine when you can; the ratios are measured side by side so that noise cancels."""

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from corpus import generate
from serving import ROOT, free_port, run_wrk, server, warm

FIXTURES = ROOT / "tests" / "crd" / "fixtures"
PATHS = {  # GET paths measured with --paths (terminology, reads, search)
    "$lookup ICD-10-CM": "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=C25.0",
    "$translate CPT->ICD-10-CM": "/fhir/ConceptMap/$translate?url={base}/ConceptMap/cpt-to-icd10cm"
                                 "&system=http://www.ama-assn.org/go/cpt&code=0600T",
    "read CodeSystem": "/fhir/CodeSystem/cpt",
    "search by url": "/fhir/ValueSet?url={base}/ValueSet/procedures-irreversible-electroporation",
    "$expand ICD-10-CM filter": "/fhir/ValueSet/$expand?url=http://hl7.org/fhir/sid/icd-10-cm?fhir_vs"
                                "&filter=epilepsy&count=20",
}
BASE = "http://fhir-ire.org/fhir"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def scenarios() -> dict[str, dict]:
    """One not-covered order; Medicare fee-for-service; three orders with a bundling conflict and a
    contraindication (the bundling fixture's orders, the contraindication fixture's conditions)."""
    three = fixture("order-sign-bundling-conflict")
    three["prefetch"]["conditions"] = fixture("order-sign-contraindication")["prefetch"]["conditions"]
    return {"not-covered": fixture("order-sign-not-covered"), "medicare-ffs": fixture("order-sign-medicare-ffs"),
            "three-orders": three}


def source_env(source: Path | None) -> dict:
    """The environment that runs another checkout's code (for --compare), or ours."""
    return {"PYTHONPATH": str(source)} if source else {}


def serve_ours(bundles: Path, workers: int, source: Path | None = None):
    """fhir-ire serve on a free port, its audit store (a record per hook call, as in production) in a fresh
    temporary folder rather than the user's own store."""
    port = free_port()
    folder = tempfile.mkdtemp(prefix="fhir-ire-bench-audit-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    audit = Path(folder) / "audit.sqlite"
    cmd = [sys.executable, "-m", "fhir_ire.cli", "serve", "--bundles", str(bundles), "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--audit-store", f"sqlite:///{audit}"]
    return port, server(cmd, port, env=source_env(source), cwd=source or ROOT)  # `-m` puts the cwd first


def measure_hooks(bundles: dict, args, ceiling_port: int, ceiling_pid: int, paths: bool) -> dict:
    """{name: wrk result} for the ceiling (GET and POST) and every scenario, on each {label: (bundles, source)}: all
    servers up at once and measured in turn, ceiling included, --repeat times; each row is the median of its runs
    (a slow spell of the shared machine then falls on every server alike, not on whichever ran last)."""
    bodies = scenarios()
    runs: dict[str, list] = {}

    def measure(name: str, url: str, pid: int, body: dict | None) -> None:
        runs.setdefault(name, []).append(run_wrk(url, pid, body, args.seconds, args.connections))

    with ExitStack() as stack:
        ports = {}
        for label, (folder, source) in bundles.items():
            port, running = serve_ours(folder, args.workers, source)
            ports[label] = port, stack.enter_context(running)
            for body in bodies.values():
                warm(f"http://127.0.0.1:{port}/cds-services/order-sign-crd", body)
            for path in (PATHS.values() if paths else []):
                warm(f"http://127.0.0.1:{port}" + path.format(base=BASE), None, n=4)
        ceiling = f"http://127.0.0.1:{ceiling_port}/ceiling"
        for _ in range(args.repeat):
            measure("ceiling GET", ceiling, ceiling_pid, None)
            measure("ceiling POST", ceiling, ceiling_pid, bodies["not-covered"])
            for name, body in bodies.items():
                for label, (port, pid) in ports.items():
                    measure(f"order-sign {name}{label}", f"http://127.0.0.1:{port}/cds-services/order-sign-crd", pid,
                            body)
            for name, path in (PATHS.items() if paths else []):
                for label, (port, pid) in ports.items():
                    measure(f"{name}{label}", f"http://127.0.0.1:{port}" + path.format(base=BASE), pid, None)
    return {name: median_run(results) for name, results in runs.items()}


def median_run(results: list[dict]) -> dict:
    """Each figure's median over the runs (errors: their sum)."""
    out = {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99", "cpu_ms")}
    return {**out, "errors": sum(r["errors"] for r in results)}


def print_table(title: str, results: dict) -> None:
    print(f"\n{title} (load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print(f"{'path':40} {'req/s':>8} {'x ceiling':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'errors':>6}")
    for name, r in results.items():
        ceiling = results["ceiling POST" if name.startswith("order-sign") else "ceiling GET"]["rps"]
        print(f"{name:40} {r['rps']:8.0f} {r['rps'] / ceiling:9.2f} {r['p50']:8.2f} {r['p99']:8.2f} "
              f"{r['cpu_ms']:10.3f} {r['errors']:6d}")


def scaled_bundles(work: Path, name: str, n: int, kind: str, source: Path | None = None) -> Path:
    """Bundles of the seeds plus n generated documents, built once (by source's code when given) and kept in
    work/ (delete it to rebuild)."""
    out = work / (f"{name}-bundles" + ("-compared" if source else ""))
    if not (out / "03-coverage.json").exists():
        seeds = work / f"{name}-seeds"
        if not seeds.is_dir():
            generate(seeds, n, kind=kind, with_seeds=True)
        print(f"building {out.name} ({n} {kind} documents + seeds) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "fhir_ire.cli", "build", "--seeds", str(seeds), "--out", str(out)],
                       cwd=source or ROOT, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, **source_env(source)})
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=10, help="wrk duration per path (default 10)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--repeat", type=int, default=1, help="runs of every row, interleaved; the median is printed")
    p.add_argument("--workers", type=int, default=2, help="granian workers, ours and the ceiling's (default 2)")
    p.add_argument("--paths", action="store_true", help="also the terminology, read and search paths")
    p.add_argument("--scale", action="store_true", help="also with 1,000 mixed documents and 10,000 payer policies")
    p.add_argument("--work", type=Path, default=Path("/tmp/fhir-ire-bench"), help="where scaled bundles are kept")
    p.add_argument("--compare", type=Path, metavar="CHECKOUT",
                   help="also serve another checkout of fhir-ire (its code and its bundles/), e.g. a git worktree "
                        "of an older commit: rows marked 'before'")
    args = p.parse_args(argv)
    port = free_port()
    ceiling = server([sys.executable, str(ROOT / "benchmarks" / "ceiling.py"), str(port), str(args.workers)], port,
                     env={"PYTHONPATH": str(ROOT / "benchmarks")})
    levels = {"seeds": (ROOT / "bundles", args.compare and args.compare / "bundles")}
    if args.scale:
        for level, name, n, kind in (("seeds + 1,000 mixed documents", "mixed-1000", 1000, "mixed"),
                                     ("seeds + 10,000 payer policies", "policies-10000", 10000, "policy")):
            levels[level] = (scaled_bundles(args.work, name, n, kind),
                             args.compare and scaled_bundles(args.work, name, n, kind, args.compare))
    tables = {}
    with ceiling as ceiling_pid:
        for level, (ours, theirs) in levels.items():
            served = {"": (ours, None)} | ({" (before)": (theirs, args.compare)} if theirs else {})
            tables[level] = measure_hooks(served, args, port, ceiling_pid, args.paths and level == "seeds")
            print_table(f"{level}, wrk -t2 -c{args.connections} -d{args.seconds}s"
                        + (f", median of {args.repeat} interleaved runs" if args.repeat > 1 else ""), tables[level])
    if args.scale:
        print("\nhook cost against the seeds alone (server CPU per request; requests/s as a ratio to each run's "
              "ceiling)")
        base = tables["seeds"]
        for level, results in list(tables.items())[1:]:
            for name, r in results.items():
                if name.startswith("order-sign"):
                    throughput = (r["rps"] / results["ceiling POST"]["rps"]) / (base[name]["rps"]
                                                                                 / base["ceiling POST"]["rps"])
                    print(f"{level:32} {name:36} CPU {r['cpu_ms'] / base[name]['cpu_ms']:5.2f}x   "
                          f"throughput {throughput:5.2f}x")


if __name__ == "__main__":
    main()
