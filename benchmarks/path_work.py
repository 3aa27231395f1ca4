"""The GET paths' Python work per request, counted rather than timed: bytecodes executed and Python function calls
(sys.settrace) for the whole WSGI call (access log on), for the paths of `hooks.py --paths` and for the ceiling's GET
(benchmarks/ceiling.py, the bare Flask endpoint) in the same process. The count is the same from run to run
whatever the machine's load. C work (orjson, SQLite, granian, system calls) is not counted.

    .venv/bin/python benchmarks/path_work.py [--compare CHECKOUT] [--by-area] [--calls 20]"""

import argparse
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hook_work import AREAS as HOOK_AREAS
from hooks import BASE, PATHS

ROOT = Path(__file__).resolve().parent.parent
AREAS = {"terminology operation": r"/fhir_ire/terminology/", **HOOK_AREAS, "query parsing": r"/urllib/parse\.py$",
         "permits (threading)": r"/threading\.py$"}


def environ(path: str) -> dict:
    path, _, query = path.partition("?")
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8080", "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8080",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
            "SCRIPT_NAME": "", "REMOTE_ADDR": "127.0.0.1"}


def traced(app, path: str, calls: int) -> dict:
    """{"ops", "calls", "areas"} per request of app for path, after a few requests to warm it."""
    ops, functions, where = [0], [0], Counter()

    def tracer(frame, event, arg):
        if event == "call":
            functions[0] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            ops[0] += 1
            where[frame.f_code.co_filename] += 1
        return tracer

    for _ in range(30):  # first-call work (kept answers, caches per base) is not what a request costs
        b"".join(app(environ(path), lambda *a: None))
    sys.settrace(tracer)
    for _ in range(calls):
        b"".join(app(environ(path), lambda *a: None))
    sys.settrace(None)
    areas = Counter()
    for file, n in where.items():
        areas[next((a for a, pattern in AREAS.items() if re.search(pattern, file)), "other")] += n
    return {"ops": ops[0] / calls, "calls": functions[0] / calls, "areas": {a: n / calls for a, n in areas.items()}}


def count(calls: int) -> dict:
    """{path name: counts} for the checkout this process imports, the ceiling's GET first."""
    from ceiling import app as ceiling
    from fhir_ire import create_app, logs

    logs.configure("text", "info")
    for handler in logging.getLogger("fhir_ire").handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the life of the process
    app = create_app({"BUNDLES": str(Path.cwd() / "bundles"), "THREADS": 4})
    out = {"ceiling GET": traced(ceiling, "/ceiling", calls)}
    for name, path in PATHS.items():
        out[name] = traced(app, path.format(base=BASE), calls)
    return out


def measure(checkout: Path, calls: int) -> dict:
    """count() in a fresh process that imports checkout's code and serves its bundles."""
    done = subprocess.run([sys.executable, __file__, "--child", str(calls)], cwd=checkout, capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": f"{checkout}:{ROOT / 'benchmarks'}"})
    return json.loads(done.stdout.splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compare", type=Path, metavar="CHECKOUT", help="also count another checkout (rows 'before')")
    p.add_argument("--by-area", action="store_true", help="each path's bytecodes by area of the code")
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(count(args.child)))
        return
    results = {"": measure(ROOT, args.calls)} | ({" (before)": measure(args.compare, args.calls)} if args.compare
                                                 else {})
    print(f"{'path':40} {'bytecodes/req':>14} {'x ceiling':>9} {'Python calls/req':>17}")
    for name in results[""]:
        for label, result in results.items():
            r, ceiling = result[name], result["ceiling GET"]["ops"]
            print(f"{name + label:40} {r['ops']:14,.0f} {r['ops'] / ceiling:9.2f} {r['calls']:17,.0f}")
            if args.by_area:
                for area, n in sorted(r["areas"].items(), key=lambda kv: -kv[1]):
                    print(f"    {area:36} {n:8,.0f}  {n * 100 / r['ops']:4.0f} %")


if __name__ == "__main__":
    main()
