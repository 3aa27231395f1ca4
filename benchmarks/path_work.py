"""The GET paths' Python work per request, counted rather than timed: bytecodes executed and Python function calls
(sys.settrace) for the whole WSGI call (access log on), for the paths of `hooks.py --paths` and for the ceiling's GET
(benchmarks/ceiling.py, the bare Flask endpoint) in the same process. The count is the same from run to run
whatever the machine's load. C work (orjson, SQLite, granian, system calls) is not counted.

    .venv/bin/python benchmarks/path_work.py [--compare CHECKOUT] [--by-area] [--calls 20]"""

import io
import logging
import os
import sys
from pathlib import Path

from hook_work import AREAS as HOOK_AREAS, print_areas, run_counts, traced
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


def count(calls: int) -> dict:
    """{path name: counts} for the checkout this process imports, the ceiling's GET first."""
    from ceiling import app as ceiling
    from fhir_ire import create_app, logs

    logs.configure("text", "info")
    for handler in logging.getLogger("fhir_ire").handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the life of the process
    app = create_app({"BUNDLES": str(Path.cwd() / "bundles"), "THREADS": 4})
    paths = {"ceiling GET": (ceiling, "/ceiling")} | {name: (app, path.format(base=BASE))
                                                        for name, path in PATHS.items()}
    return {name: traced(wsgi, lambda path=path: environ(path), calls, areas=AREAS)
            for name, (wsgi, path) in paths.items()}


def main(argv=None) -> None:
    ran = run_counts(__doc__.splitlines()[0], __file__, count, argv, what="path")
    if ran is None:
        return
    args, results = ran
    print(f"{'path':40} {'bytecodes/req':>14} {'x ceiling':>9} {'Python calls/req':>17}")
    for name in results[""]:
        for label, result in results.items():
            r, ceiling = result[name], result["ceiling GET"]["ops"]
            print(f"{name + label:40} {r['ops']:14,.0f} {r['ops'] / ceiling:9.2f} {r['calls']:17,.0f}")
            if args.by_area:
                print_areas(r)


if __name__ == "__main__":
    main()
