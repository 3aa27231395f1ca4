"""The order-sign hook's CPU cost per call, in process (Flask test client, no network), over several bundle folders
side by side: how the cost moves as the knowledge grows, with the determinations each folder gives.

    .venv/bin/python benchmarks/hook_cost.py BUNDLES [BUNDLES ...] [--calls 100] [--rounds 5]

e.g. bundles/ against folders built from benchmarks/corpus.py output (seeds + 1,000 mixed, + 10,000 policies).
Every folder's app is loaded first; then each round calls every scenario on every folder in turn, so that the
machine's load falls on all folders alike; the figure is the median round. Each app keeps its audit records (one
per call, as in production) in its own temporary SQLite store. The Python function calls per request (cProfile)
show the work done, which the machine's load does not move."""

import argparse
import cProfile
import logging
import pstats
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from hooks import scenarios

from fhir_ire import create_app

HOOK = "/cds-services/order-sign-crd"


def determinations(response: dict) -> list[str]:
    out = []
    for action in response.get("systemActions", []):
        info = next(e for e in action["resource"]["extension"] if e["url"].endswith("ext-coverage-information"))
        out.append("/".join(e["valueCode"] for e in info["extension"] if e["url"] in ("covered", "pa-needed")))
    return out


def load(folder: Path, audit: Path):
    """(test client, description line) of an app serving the folder."""
    before = time.process_time()
    app = create_app({"BUNDLES": str(folder), "AUDIT_STORE": f"sqlite:///{audit / (folder.name + '.sqlite')}"})
    seconds = time.process_time() - before
    rules = app.extensions["fhir_ire.crd"].rules
    compiled = getattr(rules, "expressions", {})  # an older checkout (--compare style runs) has none
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return app.test_client(), (f"{folder}: {rules.count} rules, {len(compiled)} distinct compiled expressions, "
                               f"{sum(e.native for e in compiled.values())} native; loaded in {seconds:.1f} s CPU, "
                               f"process peak {rss:.0f} MB so far")


def cost(client, body: dict, calls: int) -> float:
    """CPU ms per call over `calls` calls."""
    start = time.process_time()
    for _ in range(calls):
        client.post(HOOK, json=body)
    return (time.process_time() - start) * 1000 / calls


def calls_per_request(client, body: dict, calls: int = 10) -> int:
    """Python function calls per request (cProfile): the work done, free of the machine's noise."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        client.post(HOOK, json=body)
    profile.disable()
    return pstats.Stats(profile).total_calls // calls


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundles", type=Path, nargs="+")
    p.add_argument("--calls", type=int, default=100, help="calls per scenario, folder and round")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    logging.disable(logging.WARNING)
    audit = Path(tempfile.mkdtemp(prefix="fhir-ire-hook-cost-"))
    try:
        clients = {}
        for folder in args.bundles:
            clients[folder], line = load(folder, audit)
            print(line, flush=True)
        bodies = scenarios()
        answers = {(f, name): determinations(c.post(HOOK, json=body).get_json())
                   for f, c in clients.items() for name, body in bodies.items()}
        for c in clients.values():  # warm every path once before measuring
            for body in bodies.values():
                cost(c, body, 5)
        times = {key: [] for key in answers}
        for _ in range(args.rounds):
            for name, body in bodies.items():
                for f, c in clients.items():
                    times[(f, name)].append(cost(c, body, args.calls))
        work = {(f, name): calls_per_request(c, body) for f, c in clients.items() for name, body in bodies.items()}
        first = args.bundles[0]
        for f in args.bundles:
            print(f"\n{f}")
            for name in bodies:
                ms, base = statistics.median(times[(f, name)]), statistics.median(times[(first, name)])
                same = "" if answers[(f, name)] == answers[(first, name)] else "  DIFFERENT from the first folder"
                print(f"  {name:14} {ms:6.2f} ms CPU/call (rounds {min(times[(f, name)]):.2f}-"
                      f"{max(times[(f, name)]):.2f})  {ms / base:4.2f}x the first folder  "
                      f"{work[(f, name)]} Python calls/request  "
                      f"{', '.join(answers[(f, name)])}{same}")
    finally:
        shutil.rmtree(audit, ignore_errors=True)


if __name__ == "__main__":
    main()
