"""Terminology throughput side by side with the ceiling, start-up time and worker memory.

Starts `fhir-ire serve` and, on the same granian settings (WSGI, same worker count, no access log), a bare Flask
endpoint (the ceiling); loads each with wrk (-t2 -c32) in turn and prints requests/s, p50/p99 and the ratio to the
ceiling measured in the same run. Then 60 s of ICD-10-CM text-filter expansions with the workers' resident memory
sampled every 5 s. Needs wrk (Debian package `wrk`).

    .venv/bin/python benchmarks/terminology.py [--workers 2] [--seconds 10] [--soak 60] [--nucc CSV]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

from serving import stop_group

ROOT = Path(__file__).resolve().parent.parent
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
WORDS = ["epilepsy", "pancreas", "fracture femur", "diabetes", "malig neoplasm", "asthma", "sepsis", "migraine",
         "pneumonia", "hypertension", "melanoma", "glaucoma", "anemia", "arrhythmia", "kidney", "burn"]
CEILING = textwrap.dedent('''
    from flask import Flask, Response
    app = Flask("ceiling")
    @app.get("/")
    def ok():
        return Response('{"resourceType": "Parameters"}', mimetype="application/fhir+json")
''')
SERVE_CEILING = "from granian import Granian; from granian.constants import Interfaces; " \
                "Granian('tx_ceiling:app', address='127.0.0.1', port={port}, interface=Interfaces.WSGI, " \
                "workers={workers}, log_access=False).serve()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc, timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return time.monotonic() - started
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"server exited: {proc.args}")
            time.sleep(0.05)
    sys.exit(f"server did not answer {url} in {timeout} s")


def workers_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk(url: str, seconds: int, script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"] + (["-s", script] if script else []) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|Socket errors:.*?): ?(\d+)", out))

    def latency(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")
    return {"rps": rps, "p50": latency(50), "p99": latency(99), "errors": errors}


def words_script(folder: Path, base: str, pages: int = 1) -> str:
    """A wrk script that cycles through text filters (each request a different search), and with pages > 1 through
    that many pages (offset 0, 20, ...) of each."""
    path = folder / "filters.lua"
    quoted = ", ".join(f'"{urllib.request.quote(w)}"' for w in WORDS)
    path.write_text(f"words = {{{quoted}}}\nn = 0\nrequest = function()\n  n = n + 1\n"
                    f"  local offset = math.floor(n / #words) % {pages} * 20\n"
                    f"  return wrk.format(nil, \"{base}\" .. words[n % #words + 1] .. \"&offset=\" .. offset)\nend\n")
    return str(path)


def start(cmd: list[str], env=None):
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=env, cwd=ROOT)


def stop(proc) -> None:
    stop_group(proc, signal.SIGTERM, timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint")
    parser.add_argument("--soak", type=int, default=60, help="seconds of filter expansions for the memory check")
    parser.add_argument("--soak-only", action="store_true", help="only the memory check (no throughput rows)")
    parser.add_argument("--nucc", default=str(ROOT.parent / "shared" / "reference" / "nucc_taxonomy_251.csv"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="tx-bench-"))
    (folder / "tx_ceiling.py").write_text(CEILING)
    py = sys.executable
    ceiling_port, port = free_port(), free_port()
    ceiling = start([py, "-c", SERVE_CEILING.format(port=ceiling_port, workers=args.workers)],
                    env={**os.environ, "PYTHONPATH": str(folder)})
    nucc = ["--nucc", args.nucc] if Path(args.nucc).is_file() else []
    server = start([py, "-m", "fhir_ire.cli", "serve", "--port", str(port), "--workers", str(args.workers)] + nucc)
    try:
        wait_up(f"http://127.0.0.1:{ceiling_port}/", ceiling)
        up = wait_up(f"http://127.0.0.1:{port}/health", server)
        base = f"http://127.0.0.1:{port}/fhir"
        for _ in range(10 * args.workers):  # every worker has loaded its index
            urllib.request.urlopen(f"{base}/CodeSystem/$lookup?system={ICD}&code=C25.0").read()
        print(f"start-up: first 200 from /health after {up:.2f} s ({args.workers} workers, load average "
              f"{os.getloadavg()[0]:.1f}); resident memory: main {rss_mb(server.pid):.0f} MB, workers "
              f"{', '.join(f'{rss_mb(w):.0f}' for w in workers_of(server.pid))} MB")
        cases = [
            ("ceiling: bare Flask endpoint", f"http://127.0.0.1:{ceiling_port}/", None),
            ("$expand ICD-10-CM, text filter, count=20", None,
             words_script(folder, f"/fhir/ValueSet/$expand?url={ICD}?fhir_vs&count=20&filter=")),
            ("$lookup ICD-10-CM", f"{base}/CodeSystem/$lookup?system={ICD}&code=C25.0", None),
            ("$translate CPT 0600T", f"{base}/ConceptMap/$translate?sourceSystem=http://www.ama-assn.org/go/cpt"
                                     "&sourceCode=0600T", None),
            ("read ValueSet", f"{base}/ValueSet/procedures-irreversible-electroporation", None),
            ("search ValueSet by url", f"{base}/ValueSet?url=http://fhir-ire.org/fhir/ValueSet/"
                                       "procedures-irreversible-electroporation", None),
        ]
        ceiling_rps = None
        cases = [] if args.soak_only else cases
        print(f"{'request':45} {'req/s':>9} {'x ceiling':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
        for name, url, script in cases:
            r = wrk(url or f"http://127.0.0.1:{port}/", args.seconds, script)
            ceiling_rps = ceiling_rps or r["rps"]
            print(f"{name:45} {r['rps']:9.0f} {r['rps'] / ceiling_rps:9.2f} {r['p50']:8.2f} {r['p99']:8.2f} "
                  f"{r['errors']:6d}")
        samples = []
        script = words_script(folder, f"/fhir/ValueSet/$expand?url={ICD}?fhir_vs&count=20&filter=", pages=10)
        soak = subprocess.Popen(["wrk", "-t2", "-c32", f"-d{args.soak}s", "-s", script, f"http://127.0.0.1:{port}/"],
                                stdout=subprocess.PIPE, text=True)
        for _ in range(args.soak // 5 + 1):
            samples.append([round(rss_mb(w)) for w in workers_of(server.pid)])
            time.sleep(5)
        out = soak.communicate()[0]
        done, failed = re.search(r"(\d+) requests in", out), re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(f"worker memory every 5 s over {args.soak} s of filter expansions ({done and done.group(1)} requests, "
              f"{failed.group(1) if failed else 0} not 200, {len(WORDS)} searches x 10 pages in turn), MB: {samples}")
    finally:
        stop(server)
        stop(ceiling)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
