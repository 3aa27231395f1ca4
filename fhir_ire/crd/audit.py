"""The audit store: every CDS Hooks call with its answer (CRD found-11, found-37) and every feedback item, in a
SQLite file (default) or a PostgreSQL database shared by several servers; records older than the retention are
deleted. Bearer tokens are never stored: `fhirAuthorization.access_token` is redacted before a request is kept."""

import copy
import json
import os
import sqlite3
import threading
import time
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fhir_ire.errors import IreError

DEFAULT_RETENTION_DAYS = 2190  # six years, the usual retention of records about payment decisions
PURGE_EVERY = 3600.0  # seconds between deletions of expired records, per process
REDACTED = "[redacted]"
TABLES = {
    "calls": ["at", "service", "hook", "hook_instance", "client", "status", "payer", "orders", "request", "response"],
    "feedback": ["at", "service", "client", "card", "outcome", "item"],
}
JSON_COLUMNS = {"orders", "request", "response", "item"}


class AuditError(IreError):
    """The audit store cannot be opened or written (a call whose record cannot be kept is not answered)."""


def default_url() -> str:
    """A SQLite file in the user's state folder ($XDG_STATE_HOME, else ~/.local/state): it outlives restarts."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return "sqlite:///" + os.path.join(state, "fhir-ire", "audit.sqlite")


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def redact(request: dict) -> dict:
    """The request as kept: the EHR's access token replaced (found-37 logs, never a credential)."""
    out = copy.deepcopy(request)
    auth = out.get("fhirAuthorization")
    if isinstance(auth, dict) and "access_token" in auth:
        auth["access_token"] = REDACTED
    return out


def _ddl(table: str, key: str) -> list[str]:
    cols = ", ".join(f"{c} {'INTEGER' if c == 'status' else 'TEXT'}" for c in TABLES[table])
    out = [f"CREATE TABLE IF NOT EXISTS audit_{table} (id {key}, {cols})",
           f"CREATE INDEX IF NOT EXISTS audit_{table}_at ON audit_{table} (at)"]
    if table == "calls":
        out.append("CREATE INDEX IF NOT EXISTS audit_calls_hook_instance ON audit_calls (hook_instance)")
    return out


class AuditStore:
    """One store per process; every method opens what it needs, so worker processes share a SQLite file safely."""

    def __init__(self, url: str | None = None, retention_days: int = DEFAULT_RETENTION_DAYS):
        self.url = url or default_url()
        self.retention = timedelta(days=retention_days)
        self.lock = threading.Lock()
        self.purged_at = 0.0
        self.pg = None
        if self.url.startswith(("postgresql://", "postgres://")):
            self.kind, self.mark, key = "postgresql", "%s", "BIGSERIAL PRIMARY KEY"
        elif self.url.startswith("sqlite:///"):
            self.kind, self.mark, key = "sqlite", "?", "INTEGER PRIMARY KEY AUTOINCREMENT"
            self.path = Path(self.url[len("sqlite:///"):])
        else:
            raise AuditError(f"audit store {self.url.split('://')[0]}:// is not supported "
                             "(use sqlite:///PATH or postgresql://...)")
        self.schema = [s for t in TABLES for s in _ddl(t, key)]
        self.ready = False

    def _connect(self):
        if self.kind == "sqlite":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            return db
        if self.pg is None or self.pg.closed:
            try:
                import psycopg  # optional dependency: pip install 'fhir-ire[postgresql]'
            except ImportError:
                raise AuditError("a postgresql:// audit store needs psycopg: pip install 'fhir-ire[postgresql]'") \
                    from None
            self.pg = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        return self.pg

    def _run(self, statements: list[tuple[str, tuple]], fetch: bool = False):
        """Run statements in order (creating the tables first, once); the rows of the last when fetch."""
        with self.lock:
            db = None
            try:
                db = self._connect()
                if not self.ready:
                    for sql in self.schema:
                        db.execute(sql)
                    self.ready = True
                rows, names = [], []
                for sql, args in statements:
                    cur = db.execute(sql.replace("?", self.mark), args)
                    if fetch:
                        rows, names = cur.fetchall(), [d[0] for d in cur.description]
                return [dict(zip(names, r)) for r in rows] if fetch else None
            except AuditError:
                raise
            except Exception as e:  # noqa: BLE001 - sqlite3 and psycopg errors alike: the store is not usable
                if self.kind == "postgresql" and db is not None:
                    self.pg = None  # reconnect next time
                    with suppress(Exception):
                        db.close()
                why = " ".join(str(e).split())[:200]  # one line: drivers put line breaks in their messages
                raise AuditError(f"audit store ({self.kind}) failed: {type(e).__name__}: {why}") from None
            finally:
                if self.kind == "sqlite" and db is not None:
                    db.close()

    def check(self) -> None:
        """Open the store and create its tables (start-up: an unusable store is a one-line error)."""
        self._run([])

    def _insert(self, table: str, row: dict) -> None:
        cols = TABLES[table]
        values = tuple(json.dumps(row.get(c), separators=(",", ":"), ensure_ascii=False) if c in JSON_COLUMNS
                       else row.get(c) for c in cols)
        statements = [(f"INSERT INTO audit_{table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                       values)]
        if time.monotonic() - self.purged_at > PURGE_EVERY:
            self.purged_at = time.monotonic()
            cutoff = now_text(datetime.now(timezone.utc) - self.retention)
            statements += [(f"DELETE FROM audit_{t} WHERE at < ?", (cutoff,)) for t in TABLES]
        self._run(statements)

    def record_call(self, **row) -> None:
        """service, hook, hook_instance, client (the JWT iss), status, payer, orders, request, response."""
        self._insert("calls", {"at": now_text(), **row, "request": redact(row["request"]) if isinstance(
            row.get("request"), dict) else row.get("request")})

    def record_feedback(self, service: str, client: str | None, items: list[dict]) -> None:
        at = now_text()
        for item in items:
            self._insert("feedback", {"at": at, "service": service, "client": client, "card": item.get("card"),
                                      "outcome": item.get("outcome"), "item": item})

    def purge(self, now: datetime | None = None) -> None:
        cutoff = now_text((now or datetime.now(timezone.utc)) - self.retention)
        self._run([(f"DELETE FROM audit_{t} WHERE at < ?", (cutoff,)) for t in TABLES])

    def entries(self, table: str = "calls", since: str | None = None, hook_instance: str | None = None,
                limit: int | None = None) -> list[dict]:
        """Records in time order, JSON columns decoded; since is an ISO-8601 UTC instant."""
        where, args = [], []
        if since:
            where.append("at >= ?")
            args.append(since)
        if hook_instance and table == "calls":
            where.append("hook_instance = ?")
            args.append(hook_instance)
        sql = f"SELECT id, {', '.join(TABLES[table])} FROM audit_{table}" + \
            (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY at, id" + \
            (f" LIMIT {int(limit)}" if limit else "")
        rows = self._run([(sql, tuple(args))], fetch=True)
        return [{k: json.loads(v) if k in JSON_COLUMNS and v is not None else v for k, v in r.items()} for r in rows]
