"""The audit store: every CDS Hooks call with its answer (CRD found-11, found-37) and every feedback item, in a
SQLite file (default) or a PostgreSQL database shared by several servers; records older than the retention are
deleted. Bearer tokens are never stored: `fhirAuthorization.access_token` is redacted before a request is kept.

A record is committed before its call is answered; concurrent calls of one process share a commit (group commit:
crd/audit_commit.py). The records of a commit are one multi-row INSERT in autocommit mode, atomic on its own: the
database's write lock is taken, the rows written and committed, and the lock released within one call into the
driver, never held while the process waits for Python's interpreter lock (with BEGIN, INSERT and COMMIT apart, a
worker could hold SQLite's lock across three such waits while the other workers' commits slept in SQLite's busy
handler). A SQLite commit is written to the operating system (sync `normal`: it survives a crash of
the server, not necessarily one of the machine) or flushed to disk (`full`, several ms)."""

import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from itertools import chain
from pathlib import Path

import orjson

from fhir_ire.crd.audit_commit import AuditError, AuditRefused, GroupCommit, Pending

DEFAULT_RETENTION_DAYS = 2190  # six years, the usual retention of records about payment decisions
PURGE_EVERY = 3600.0  # seconds between deletions of expired records, per process
REDACTED = "[redacted]"
SYNC = {"normal": "NORMAL", "full": "FULL"}  # --audit-sync: SQLite's synchronous setting (WAL journal)
TABLES = {
    "calls": ["at", "service", "hook", "hook_instance", "client", "status", "payer", "orders", "request", "response"],
    "feedback": ["at", "service", "client", "card", "outcome", "item"],
}
JSON_COLUMNS = {"orders", "request", "response", "item"}
# driver errors about one statement's values (the others are about the store: locked, unreachable, full, read only)
REFUSALS = {"sqlite": {"IntegrityError", "DataError", "InterfaceError", "ProgrammingError"},
            "postgresql": {"IntegrityError", "DataError", "ProgrammingError"}}
log = logging.getLogger("fhir_ire.crd")


def default_url() -> str:
    """A SQLite file in the user's state folder ($XDG_STATE_HOME, else ~/.local/state): it outlives restarts."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return "sqlite:///" + os.path.join(state, "fhir-ire", "audit.sqlite")


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def redact(request: dict) -> dict:
    """The request as kept: the EHR's access token replaced (found-37 logs, never a credential). The request itself
    is left as it is: only the two objects on the way to the token are new."""
    auth = request.get("fhirAuthorization")
    if isinstance(auth, dict) and "access_token" in auth:
        return {**request, "fhirAuthorization": {**auth, "access_token": REDACTED}}
    return request


class JsonText(str):
    """A value already encoded as JSON, kept as it is: the request as the client sent it, the answer as it was sent
    (the exact texts a dispute is about, and no second encoding of either)."""


def json_text(value) -> str:
    """A JSON column's text (orjson; the standard library for what orjson refuses, such as integers over 64 bits)."""
    if isinstance(value, JsonText):
        return str(value)
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _ddl(table: str, key: str) -> list[str]:
    cols = ", ".join(f"{c} {'INTEGER' if c == 'status' else 'TEXT'}" for c in TABLES[table])
    out = [f"CREATE TABLE IF NOT EXISTS audit_{table} (id {key}, {cols})",
           f"CREATE INDEX IF NOT EXISTS audit_{table}_at ON audit_{table} (at)"]
    if table == "calls":
        out.append("CREATE INDEX IF NOT EXISTS audit_calls_hook_instance ON audit_calls (hook_instance)")
    return out


class AuditStore(GroupCommit):
    """One store per process, one connection per process (opened again in a forked worker, and when the SQLite file
    was replaced or removed); worker processes share a SQLite file through its own locking (WAL)."""

    def __init__(self, url: str | None = None, retention_days: int = DEFAULT_RETENTION_DAYS, sync: str = "normal"):
        self.url = url or default_url()
        self.retention = timedelta(days=retention_days)
        if sync not in SYNC:
            raise AuditError(f"audit sync {sync!r} is not one of {', '.join(SYNC)}")
        self.sync = sync
        super().__init__({t: len(cols) for t, cols in TABLES.items()})
        self.lock = threading.Lock()  # the connection: one statement list at a time
        self.purged_at = 0.0
        self.db, self.owner, self.inode = None, None, None
        self.inherited: list = []  # connections of a parent process (see _connect)
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
        """The process's open connection, opened when there is none, the process is a fork of the one that opened
        it, or the SQLite file is no longer the one it opened."""
        if self.db is not None and self.owner == os.getpid() and self._same_file():
            return self.db
        if self.db is not None and self.owner == os.getpid():
            with suppress(Exception):
                self.db.close()
        elif self.db is not None:  # inherited through fork(): never used nor closed here (SQLite forbids both),
            self.inherited.append(self.db)  # so kept referenced rather than closed by the garbage collector
        self.db, self.owner = None, os.getpid()
        if self.kind == "sqlite":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={SYNC[self.sync]}")
            self.inode = os.stat(self.path).st_ino
        else:
            try:
                import psycopg  # optional dependency: pip install 'fhir-ire[postgresql]'
            except ImportError:
                raise AuditError("a postgresql:// audit store needs psycopg: pip install 'fhir-ire[postgresql]'") \
                    from None
            db = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        self.db, self.ready = db, False
        return db

    def _same_file(self) -> bool:
        if self.kind != "sqlite":
            return not self.db.closed
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def _run(self, statements: list[tuple[str, tuple]], fetch: bool = False):
        """Run statements in order, each on its own (autocommit), creating the tables first, once per connection;
        the rows of the last when fetch."""
        with self.lock:
            reached = False
            try:
                db = self._connect()
                if not self.ready:
                    for sql in self.schema:
                        db.execute(sql)
                    self.ready = True
                reached = True
                rows, names = [], []
                for sql, args in statements:
                    cur = db.execute(sql.replace("?", self.mark), args)
                    if fetch:
                        rows, names = cur.fetchall(), [d[0] for d in cur.description]
                return [dict(zip(names, r)) for r in rows] if fetch else None
            except AuditError:
                raise
            except Exception as e:  # noqa: BLE001 - sqlite3 and psycopg errors alike: the store is not usable
                if self.db is not None:  # open again next time
                    with suppress(Exception):
                        self.db.close()
                    self.db = None
                why = " ".join(str(e).split())[:200]  # one line: drivers put line breaks in their messages
                refused = reached and (isinstance(e, (TypeError, ValueError, OverflowError))
                                       or type(e).__name__ in REFUSALS[self.kind])
                raise (AuditRefused if refused else AuditError)(
                    f"audit store ({self.kind}) failed: {type(e).__name__}: {why}") from None

    def _write(self, group: list) -> None:
        self._run([self._insert_statement(group)])

    def _after_commit(self) -> None:
        if time.monotonic() - self.purged_at > PURGE_EVERY:
            self.purged_at = time.monotonic()
            try:
                self.purge()
            except AuditError as e:  # the records are kept; deleting the expired ones is tried again next time
                self.purged_at = 0.0
                log.error("expired audit records not deleted: %s", e)

    def _insert_statement(self, group: list[Pending]) -> tuple[str, tuple]:
        """One INSERT of every row of the group (all of one table): atomic without BEGIN and COMMIT."""
        cols = TABLES[group[0].table]
        row = f"({', '.join('?' * len(cols))})"
        rows = [r for p in group for r in p.rows]
        return (f"INSERT INTO audit_{group[0].table} ({', '.join(cols)}) VALUES {', '.join([row] * len(rows))}",
                tuple(chain.from_iterable(rows)))

    def check(self) -> None:
        """Open the store and create its tables (start-up: an unusable store is a one-line error). The connection
        is closed again: the server checks before forking its workers, which must not inherit an open one."""
        self._run([])
        self.close()

    def close(self) -> None:
        with self.lock:
            if self.db is not None and self.owner == os.getpid():
                with suppress(Exception):
                    self.db.close()
                self.db = None

    def _insert(self, table: str, *rows: dict) -> None:
        cols = TABLES[table]
        self._commit(table, [tuple([json_text(row.get(c)) if c in JSON_COLUMNS else row.get(c) for c in cols])
                             for row in rows])

    def record_call(self, *, request_text: str | None = None, **row) -> None:
        """service, hook, hook_instance, client (the JWT iss), status, payer, orders, request, response (either may
        be a JsonText). request_text: the request's JSON as received, kept instead of encoding the request again
        unless it carries an access token."""
        request = row.get("request")
        if isinstance(request, dict):
            kept = redact(request)
            request = JsonText(request_text) if request_text is not None and kept is request else kept
        self._insert("calls", {"at": now_text(), **row, "request": request})

    def record_feedback(self, service: str, client: str | None, items: list[dict]) -> None:
        """A feedback post's items, kept together (one statement) or not at all."""
        at = now_text()
        self._insert("feedback", *({"at": at, "service": service, "client": client, "card": item.get("card"),
                                    "outcome": item.get("outcome"), "item": item} for item in items))

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
