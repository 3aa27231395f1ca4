"""`fhir-ire load`: send the bundles to an existing FHIR R4 server, idempotently (PUT by id)."""

import os

from fhir_ire.errors import LoadError
from fhir_ire.interop.client import FhirClient
from fhir_ire.interop.loader import Loader, plural, read_bundle_files, summary_lines, without

TOKEN_ENV = "FHIR_IRE_TOKEN"


def add_arguments(p):
    p.add_argument("--server", required=True, metavar="URL",
                   help="FHIR R4 base URL, e.g. http://localhost:8080/fhir")
    p.add_argument("--bundles", default="bundles", metavar="DIR", help="folder of Bundle files (default: bundles)")
    p.add_argument("--token", metavar="T",
                   help=f"bearer token for the server (default: ${TOKEN_ENV}, which keeps it out of the process list)")
    p.add_argument("--batch-size", type=int, default=100, metavar="N",
                   help="resources per request (default 100); requests refused as too large (413) are split further")
    p.add_argument("--bundle-type", choices=["transaction", "batch"], default="transaction",
                   help="send transactions (default) or batches, for servers without transactions")
    p.add_argument("--skip", action="append", default=[], metavar="TYPE[/ID]",
                   help="leave out these resources, e.g. CodeSystem/nucc-provider-taxonomy when the server "
                        "already holds the full code system (repeatable)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds to wait for each answer (60)")
    p.add_argument("--retries", type=int, default=4, metavar="N",
                   help="retries after 429, 5xx, timeouts and connection errors, with back-off (4)")
    p.add_argument("--backoff", type=float, default=1.0, metavar="S",
                   help="first back-off delay in seconds, doubled on each retry (1); Retry-After wins")


def run(args) -> int:
    if args.retries < 0 or args.backoff < 0 or args.timeout <= 0:
        raise LoadError("--retries and --backoff cannot be negative, and --timeout must be above 0")
    files, left_out = without(read_bundle_files(args.bundles), args.skip)
    client = FhirClient(args.server, token=args.token or os.environ.get(TOKEN_ENV), timeout=args.timeout,
                        retries=args.retries, backoff=args.backoff)
    loader = Loader(client, batch_size=args.batch_size, progress=lambda line: print(line, flush=True),
                    bundle_type=args.bundle_type)
    cap = client.capabilities()
    software = (cap.get("software") or {}).get("name") or "FHIR server"
    count = sum(len(f.entries) for f in files)
    print(f"loading {len(files)} bundles ({count} resources) into {client.base} "
          f"({software}, FHIR {cap.get('fhirVersion') or '?'})"
          + (f", leaving out {plural(left_out, 'resource')} (--skip)" if left_out else ""), flush=True)
    try:
        result = loader.load(files)
    finally:
        done = loader.result
        print("\n".join(summary_lines(done.tally)))
        retried = f", {client.retried} retried" if client.retried else ""
        print(f"{plural(done.requests, 'request')}{retried}, {done.seconds:.2f} s", flush=True)
    return 1 if result.tally.total()["failed"] else 0
