"""`fhir-ire build`: read the documents, check the facts, write transaction bundles, QA outcome and facts."""

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from fhir_ire.build.bundle import SpooledBundle
from fhir_ire.build.output import Deferred, diff_tree, write_atomically
from fhir_ire.build.context import MAPPING_POLICIES
from fhir_ire.checks.reading import status_line
from fhir_ire.codesets.nucc import load_nucc
from fhir_ire.errors import BuildError
from fhir_ire.uris import DEFAULT_BASE


def add_arguments(p):
    p.add_argument("--seeds", default="seeds", help="folder of source documents (default: seeds)")
    p.add_argument("--out", default="bundles", help="output folder (default: bundles)")
    p.add_argument("--nucc", help="NUCC taxonomy CSV of a newer release (default: the release embedded in the package)")
    p.add_argument("--check", action="store_true", help="exit 1 when --out differs from a fresh build")
    p.add_argument("--mapping-policy", choices=sorted(MAPPING_POLICIES), default="correct",
                   help="how codes that contradict a code set are published (default: correct)")
    p.add_argument("--base", default=DEFAULT_BASE, help=f"canonical base URL (default: {DEFAULT_BASE})")
    p.add_argument("--as-of", type=date.fromisoformat, default=None,
                   help="date that payment figures are judged stale against, recorded in the bundles' timestamp "
                        "(default: today; with --check, the date recorded in --out)")
    p.add_argument("--jobs", type=_positive, default=None, metavar="N",
                   help="processes that read the documents (default: every CPU from 200 documents on, else 1); "
                        "the output is the same whatever N")
    p.add_argument("--strict", action="store_true",
                   help="fail (and write nothing) when a document is left out or only partly read")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1 expected, not {text!r}")
    return int(text)


def output_files(seeds, nucc_csv=None, *, as_of=None, base=DEFAULT_BASE, mapping_policy="correct", jobs=None,
                 spool=False):
    """(relative path -> JSON data, documents, findings) of a build, nothing written. spool: the bundles are
    SpooledBundles and each document's facts are made when written (output.Deferred), so that the build holds no
    bundle in memory; the bytes written are the same."""
    from fhir_ire.build.pipeline import build  # the readers and ICD-10-CM load only when a build runs

    as_of = as_of or date.today()
    bundles, outcome, documents, findings = build(Path(seeds), load_nucc(nucc_csv), as_of, base, mapping_policy, jobs,
                                                  spool)
    stamp = f"{as_of.isoformat()}T00:00:00Z"  # recorded, so that --check can rebuild with it on a later day
    for b in bundles.values():
        if spool:
            b.timestamp = stamp
        else:
            b["timestamp"] = stamp
    files = {f"{name}.json": b for name, b in bundles.items()}
    files["qa-outcome.json"] = outcome
    files.update({f"facts/{d.file.rsplit('.', 1)[0]}.json": Deferred(d.to_json) if spool else d.to_json()
                  for d in documents})
    return files, documents, findings


def build_to(seeds, out, nucc_csv=None, strict=False, **options):
    """Build into out (atomically). Raises BuildError on bad input (and, when strict, on a document left out or
    partly read), leaving out untouched."""
    files, documents, findings = output_files(seeds, nucc_csv, spool=True, **options)
    if strict:
        check_strict(documents)
    write_atomically(Path(out), files)
    return files, documents, findings


def recorded_as_of(out) -> date | None:
    """The as-of date a previous build recorded in its bundles' timestamp (None when there is none)."""
    for path in sorted(Path(out).glob("*.json")):
        try:
            stamp = json.loads(path.read_text(encoding="utf-8")).get("timestamp")
            if isinstance(stamp, str):
                return date.fromisoformat(stamp[:10])
        except (OSError, ValueError, AttributeError):
            continue
    return None


def summarize(files, documents, findings) -> str:
    kinds = Counter(d.kind for d in documents if not d.left_out)
    status = Counter(d.status for d in documents)
    lines = [f"read {sum(kinds.values())} documents ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), "
             f"{sum(len(d.facts) for d in documents)} facts; {status['read']} read, {status['partly read']} partly "
             f"read, {status['left out']} left out"]
    lines += [status_line(d) for d in documents]
    sev = Counter(f.severity for f in findings)
    lines.append(f"checks: {sev['error']} errors, {sev['warning']} warnings, {sev['information']} information")
    lines += ["  " + f.line() for f in findings]
    resources = sum((b.counts() for b in files.values() if isinstance(b, SpooledBundle)),
                    Counter(e["resource"]["resourceType"] for b in files.values()
                            if isinstance(b, dict) and b.get("resourceType") == "Bundle" for e in b["entry"]))
    lines.append(f"resources: {', '.join(f'{n} {t}' for t, n in sorted(resources.items()))}")
    return "\n".join(lines)


def check_strict(documents) -> None:
    """--strict: a document left out or only partly read fails the build."""
    problems = [d for d in documents if d.status != "read"]
    if problems:
        raise BuildError(f"--strict: {len(problems)} document(s) not fully read: "
                         + "; ".join(f"{d.file} {d.status}" + (f" ({d.left_out})" if d.left_out else
                                                               f" (no {', '.join(d.missing)})") for d in problems[:5])
                         + (" ..." if len(problems) > 5 else ""))


def run(args) -> int:
    options = {"as_of": args.as_of, "base": args.base, "mapping_policy": args.mapping_policy, "jobs": args.jobs}
    if args.check:
        options["as_of"] = args.as_of or recorded_as_of(args.out)
        files, documents, findings = output_files(args.seeds, args.nucc, spool=True, **options)
        changed = diff_tree(Path(args.out), files)
        if changed:
            print(f"fhir-ire build --check: {args.out} differs from a fresh build: {', '.join(changed[:10])}"
                  + (" ..." if len(changed) > 10 else ""), file=sys.stderr)
            return 1
        print(f"fhir-ire build --check: {args.out} is up to date ({len(files)} files)")
        return 0
    if not Path(args.seeds).is_dir():
        raise BuildError("source folder not found", args.seeds)
    files, documents, findings = build_to(args.seeds, args.out, args.nucc, strict=args.strict, **options)
    print(summarize(files, documents, findings))
    print(f"wrote {len(files)} files to {args.out}/ (QA outcome: {args.out}/qa-outcome.json)")
    return 0
