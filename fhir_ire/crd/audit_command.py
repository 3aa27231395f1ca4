"""`fhir-ire audit`: print the audit store's records of hook calls (or feedback) as JSON lines, oldest first."""

import json
import re
import sys
from datetime import datetime, timedelta, timezone

from fhir_ire import config as options
from fhir_ire.crd.audit import AuditStore, default_url, now_text
from fhir_ire.errors import IreError

UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def add_arguments(p):
    p.add_argument("--audit-store", help=f"sqlite:///PATH or postgresql://... (default: {default_url()})")
    p.add_argument("--since", help="only records from this time on: an ISO-8601 date or instant (UTC unless an "
                                   "offset is given), or a span back from now such as 30m, 12h, 7d")
    p.add_argument("--hook-instance", help="only the call(s) with this hookInstance")
    p.add_argument("--feedback", action="store_true", help="print the feedback records instead of the calls")
    p.add_argument("--limit", type=int, help="print at most this many records")


def since_instant(text: str, now: datetime | None = None) -> str:
    """The UTC instant a --since value names, in the store's format; IreError when it names none."""
    now = now or datetime.now(timezone.utc)
    if m := re.fullmatch(r"(\d+)([mhd])", text.strip()):
        return now_text(now - timedelta(**{UNITS[m.group(2)]: int(m.group(1))}))
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise IreError(f"--since {text!r} is neither an ISO-8601 date or instant nor a span such as 7d") from None
    return now_text(when.replace(tzinfo=when.tzinfo or timezone.utc).astimezone(timezone.utc))


def run(args) -> int:
    # the same store `fhir-ire serve` uses: the flag, else FHIR_IRE_AUDIT_STORE or the TOML file, else the default
    url = args.audit_store or options.resolve().config.get("AUDIT_STORE")
    store = AuditStore(url)
    since = since_instant(args.since) if args.since else None
    for entry in store.entries("feedback" if args.feedback else "calls", since, args.hook_instance, args.limit):
        sys.stdout.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
    return 0
