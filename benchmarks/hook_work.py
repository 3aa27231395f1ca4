"""The order-sign hook's Python work per call, counted rather than timed: bytecodes executed and Python function
calls (sys.settrace), for the whole WSGI call (access log on, audit record kept), in the three scenarios of
benchmarks/hooks.py. The count is the same from run to run whatever the machine's load, so a change of a few
percent shows, where CPU time on the shared machine swings by 20-40 %. C work (SQLite, orjson, granian) is not
counted: see docs/performance.md for its share.

    .venv/bin/python benchmarks/hook_work.py [--compare CHECKOUT] [--by-area] [--calls 20]"""

import argparse
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from hooks import scenarios

ROOT = Path(__file__).resolve().parent.parent
AREAS = {  # first match wins: where a bytecode runs, by file
    "fhirpath closures": r"/fhir_ire/fhirpath/",
    "audit record": r"/fhir_ire/crd/audit",
    "rule engine and cards": r"/fhir_ire/crd/",
    "request check (generated schema code)": r"^<string>$",
    "our request hooks and encoding": r"/fhir_ire/(web|logs|ids|budget|uris)",
    "flask and werkzeug": r"/(flask|werkzeug)/",
    "logging": r"/logging/",
}


def environ(body: bytes) -> dict:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/cds-services/order-sign-crd", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8080", "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8080",
            "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "QUERY_STRING": "", "SCRIPT_NAME": "",
            "REMOTE_ADDR": "127.0.0.1"}


def traced(app, make_environ, calls: int, warm: int = 30, areas: dict = AREAS) -> dict:
    """{"ops", "calls", "areas"} per WSGI call of app on make_environ(), after warm calls (first-call work: links per
    base, statement cache, kept answers, is not what a call costs); areas: {name: file pattern}, first match wins."""
    ops, functions, where = [0], [0], Counter()

    def tracer(frame, event, arg):
        if event == "call":
            functions[0] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            ops[0] += 1
            where[frame.f_code.co_filename] += 1
        return tracer

    for _ in range(warm):
        b"".join(app(make_environ(), lambda *a: None))
    sys.settrace(tracer)
    for _ in range(calls):
        b"".join(app(make_environ(), lambda *a: None))
    sys.settrace(None)
    found = Counter()
    for file, n in where.items():
        found[next((a for a, pattern in areas.items() if re.search(pattern, file)), "other")] += n
    return {"ops": ops[0] / calls, "calls": functions[0] / calls, "areas": {a: n / calls for a, n in found.items()}}


def count(calls: int) -> dict:
    """{scenario: {"ops": n, "calls": n, "areas": {area: n}}} per call, for the checkout this process imports."""
    from fhir_ire import create_app, logs

    logs.configure("text", "info")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the life of the process
    folder = tempfile.mkdtemp(prefix="fhir-ire-work-")
    app = create_app({"BUNDLES": str(Path.cwd() / "bundles"), "AUDIT_STORE": f"sqlite:///{folder}/audit.sqlite",
                      "THREADS": 4})
    out = {}
    for name, body in scenarios().items():
        raw = json.dumps(body).encode()
        out[name] = traced(app, lambda raw=raw: environ(raw), calls)
    return out


def measure(checkout: Path, calls: int, script: str = __file__) -> dict:
    """count() of script (this one by default) in a fresh process that imports checkout's code and serves its
    bundles."""
    done = subprocess.run([sys.executable, script, "--child", str(calls)], cwd=checkout, capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": f"{checkout}:{ROOT / 'benchmarks'}"})
    return json.loads(done.stdout.splitlines()[-1])


def run_counts(description: str, script: str, count, argv=None, what: str = "scenario"):
    """The command line of the counting benchmarks (this one, path_work.py): with --child N, print count(N) as JSON
    and return None; else (args, {label: counts}) for this checkout and, with --compare, the other one."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--compare", type=Path, metavar="CHECKOUT", help="also count another checkout (rows 'before')")
    p.add_argument("--by-area", action="store_true", help=f"each {what}'s bytecodes by area of the code")
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(count(args.child)))
        return None
    checkouts = {"": ROOT} | ({" (before)": args.compare} if args.compare else {})
    return args, {label: measure(checkout, args.calls, script) for label, checkout in checkouts.items()}


def print_areas(r: dict) -> None:
    for area, n in sorted(r["areas"].items(), key=lambda kv: -kv[1]):
        print(f"    {area:40} {n:8,.0f}  {n * 100 / r['ops']:4.0f} %")


def main(argv=None) -> None:
    ran = run_counts(__doc__.splitlines()[0], __file__, count, argv)
    if ran is None:
        return
    args, results = ran
    print(f"{'scenario':32} {'bytecodes/call':>15} {'Python calls/call':>18}")
    for name in scenarios():
        for label, result in results.items():
            r = result[name]
            print(f"{'order-sign ' + name + label:32} {r['ops']:15,.0f} {r['calls']:18,.0f}")
            if args.by_area:
                print_areas(r)


if __name__ == "__main__":
    main()
