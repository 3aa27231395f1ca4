"""Slow bodies (slowloris on the body): N connections send a POST's headers, then drip its body one byte at a time
(--stall: send one byte, then nothing), closing after an answer (--hold: keeping the connection), while a prober
measures `GET /health` over a new connection every half second. Prints the /health latencies (median, worst,
failures), the server's memory, and how the slow connections ended. Loopback only.

    .venv/bin/python benchmarks/slowbody.py [--connections 40] [--seconds 20] [--workers 2] [--threads 4]
        [--drip-every 1.0] [--stall] [--hold] [-- extra serve options]"""

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import ROOT, percentile, request, server_rss, start_server, stop_server  # noqa: E402

PATH = "/fhir/CodeSystem/$lookup"
BODY = b'{"resourceType": "Parameters", "parameter": [' + b" " * 4000 + b"]}"


def drip(port: int, stop: threading.Event, every: float, stall: bool, hold: bool, ended: Counter,
         lock: threading.Lock) -> None:
    """Headers at once, then one body byte every `every` seconds (stall: one byte only); after an answer, close
    (hold: go on as before, ignoring it); records how the connection ended."""
    outcome = "no answer"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                         f"Content-Length: {len(BODY)}\r\n\r\n".encode())
            sock.settimeout(every)
            for sent, byte in enumerate(BODY):
                if stop.is_set():
                    outcome += ", still open at the end"
                    break
                try:
                    answer = sock.recv(4096)
                    if not answer:
                        outcome += ", closed by the server"
                        break
                    if outcome == "no answer":
                        outcome = f"answered {answer[9:12].decode()}"
                    if not hold:
                        break
                except socket.timeout:
                    pass
                if not (stall and sent):
                    sock.sendall(bytes([byte]))
    except OSError as e:
        outcome += f", {type(e).__name__}"
    with lock:
        ended[outcome] += 1


def probe(port: int, seconds: float) -> tuple[list[float], int]:
    latencies, failures = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            status = request(port, "GET", "/health")[0]
            latencies.append(time.monotonic() - started) if status == 200 else None
            failures += status != 200
        except OSError:
            failures += 1
        time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
    return latencies, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--drip-every", type=float, default=1.0)
    parser.add_argument("--stall", action="store_true", help="send one body byte, then nothing")
    parser.add_argument("--hold", action="store_true", help="keep the connection after the answer")
    parser.add_argument("extra", nargs="*", help="more `fhir-ire serve` options (after --)")
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp()) / "serve.log"
    proc, port = start_server(ROOT / "bundles", args.workers, log,
                              ["--threads", str(args.threads), *args.extra])
    stop, lock, ended = threading.Event(), threading.Lock(), Counter()
    try:
        baseline, _ = probe(port, 2)
        rss_before = server_rss(proc)
        drippers = [threading.Thread(target=drip, args=(port, stop, args.drip_every, args.stall, args.hold, ended, lock), daemon=True)
                    for _ in range(args.connections)]
        for t in drippers:
            t.start()
        time.sleep(0.5)
        latencies, failures = probe(port, args.seconds)
        rss_during = server_rss(proc)
        stop.set()
        for t in drippers:
            t.join(timeout=args.drip_every + 5)
    finally:
        stop_server(proc)
    print(f"{args.connections} {'stalled' if args.stall else 'dripping'} connections, {args.workers} workers x {args.threads} threads, "
          f"serve options {args.extra or 'default'}")
    print(f"/health before: median {percentile(baseline, 0.5) * 1000:.0f} ms; server RSS {rss_before / 2**20:.0f} MiB "
          f"before, {rss_during / 2**20:.0f} MiB at the end")
    if latencies:
        print(f"/health during: {len(latencies)} answered, median {percentile(latencies, 0.5) * 1000:.0f} ms, "
              f"worst {max(latencies) * 1000:.0f} ms; {failures} failed or timed out (30 s)")
    else:
        print(f"/health during: none answered; {failures} failed or timed out (30 s)")
    print("their connections ended:", dict(ended))
    return 0


if __name__ == "__main__":
    sys.exit(main())
