"""The order-sign hook's CPU cost per call, in process (Flask test client, no network), over several bundle folders
side by side: how the cost moves as the knowledge grows, with the determinations each folder gives.

    .venv/bin/python benchmarks/hook_cost.py BUNDLES [BUNDLES ...] [--calls 200]

e.g. bundles/ against folders built from benchmarks/corpus.py output (seeds + 1,000 mixed, + 10,000 policies)."""

import argparse
import logging
import time
from pathlib import Path

from hooks import scenarios

from fhir_ire import create_app


def determinations(response: dict) -> list[str]:
    out = []
    for action in response.get("systemActions", []):
        info = next(e for e in action["resource"]["extension"] if e["url"].endswith("ext-coverage-information"))
        out.append("/".join(e["valueCode"] for e in info["extension"] if e["url"] in ("covered", "pa-needed")))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundles", type=Path, nargs="+")
    p.add_argument("--calls", type=int, default=200)
    args = p.parse_args(argv)
    logging.disable(logging.WARNING)
    bodies, base = scenarios(), {}
    for folder in args.bundles:
        app = create_app({"BUNDLES": str(folder)})
        rules = app.extensions["fhir_ire.crd"].rules
        client = app.test_client()
        compiled = getattr(rules, "expressions", {})  # an older checkout (--compare style runs) has none
        print(f"\n{folder}: {rules.count} rules, {len(compiled)} distinct compiled expressions, "
              f"{sum(e.native for e in compiled.values())} native")
        for name, body in bodies.items():
            response = client.post("/cds-services/order-sign-crd", json=body).get_json()
            start = time.process_time()
            for _ in range(args.calls):
                client.post("/cds-services/order-sign-crd", json=body)
            ms = (time.process_time() - start) * 1000 / args.calls
            base.setdefault(name, ms)
            print(f"  {name:14} {ms:6.2f} ms CPU/call  {ms / base[name]:4.2f}x the first folder  "
                  f"{', '.join(determinations(response))}")


if __name__ == "__main__":
    main()
