"""Render time of the pages on the committed bundles: the whole request through Flask (routing, view, Jinja), in
process, after a warm-up. Prints median, p95 and max per page and the ratio to a bare Flask endpoint measured in the
same run; the target is under 100 ms for the matrix and a code page.

    .venv/bin/python benchmarks/pages.py [--bundles bundles] [--nucc CSV] [--runs 200]
"""

import argparse
import statistics
import time
from pathlib import Path
from urllib.parse import quote_plus

from flask import Flask

from fhir_ire import create_app
from fhir_ire.uris import ICD10CM

ROOT = Path(__file__).resolve().parent.parent


def pages(app) -> list[str]:
    """The pages to time, chosen from what the bundles hold: the matrix, the code page of the most-ruled code, an
    ICD-10-CM code page, a cell with a rule, the payer with the most rules, a DTR questionnaire, the longest source,
    the QA report, a word search over the documented codes, a word search over the whole ICD-10-CM (the first two
    words of the ICD-10-CM code's title, through the FTS5 word index) and a hook call."""
    catalog, finder = app.extensions["fhir_ire.ui"], app.extensions["fhir_ire.ui.finder"]
    code = max((c for _, c in catalog.codes), key=lambda c: len(catalog.naming.get(c, [])))
    cell = next((c for c in catalog.cells.values() if c.entries), None)
    source = max(catalog.sources.values(), key=lambda s: len(s.lines))
    icd = next((c for c in sorted(catalog.naming) if "." in c), None)
    out = ["/ui/coverage", f"/ui/codes/{code}"] + ([f"/ui/codes/{icd}"] if icd else [])
    if cell:
        out.append(f"/ui/coverage/{cell.payer}/{cell.code}")
    payer = max(catalog.payers, key=lambda p: len(catalog.payer_rules(p["id"])), default=None)
    out += [f"/ui/payers/{payer['id']}"] if payer else []
    out += [f"/ui/resources/Questionnaire/{q['id']}" for q in app.extensions["fhir_ire.index"].all("Questionnaire")][:1]
    out += [f"/ui/sources/{source.id}", "/ui/qa", "/ui/codes?q=tumor"]
    title = finder.display(ICD10CM, icd) if icd else ""
    if title:
        out.append("/ui/codes?q=" + quote_plus(" ".join(title.split()[:2]).lower()))
    if cell:
        out.append(f"/ui/hooks?hook=order-sign&payer={catalog.payer_name(cell.payer)}&code={cell.code}")
    return out


def timed(client, path: str, runs: int) -> list[float]:
    for _ in range(5):
        assert client.get(path).status_code == 200, path
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", default=str(ROOT / "bundles"))
    parser.add_argument("--nucc", default=str(ROOT.parent / "shared" / "reference" / "nucc_taxonomy_251.csv"))
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    config = {"BUNDLES": args.bundles}
    if Path(args.nucc).is_file():
        config["NUCC"] = args.nucc
    app = create_app(config)
    client = app.test_client()
    bare = Flask("bare")
    bare.get("/")(lambda: "ok")
    floor = statistics.median(timed(bare.test_client(), "/", args.runs))
    print(f"{'page':58} {'median ms':>9} {'p95 ms':>8} {'max ms':>8} {'x bare':>7}")
    print(f"{'bare Flask endpoint (same client)':58} {floor:9.2f}")
    print(f"bundles: {args.bundles}; {len(app.extensions['fhir_ire.ui'].payers)} payers x "
          f"{len(app.extensions['fhir_ire.ui'].codes)} codes, {len(app.extensions['fhir_ire.ui'].sources)} documents")
    for path in pages(app):
        t = timed(client, path, args.runs)
        median, p95 = statistics.median(t), t[int(len(t) * 0.95) - 1]
        print(f"{path[:58]:58} {median:9.2f} {p95:8.2f} {t[-1]:8.2f} {median / floor:7.1f}")


if __name__ == "__main__":
    main()
