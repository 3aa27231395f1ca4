"""Group commit for the audit store (crd/audit.py), as PostgreSQL does it: concurrent calls of one process share a
commit. Each call waits for the statement that holds its record, so one commit serves every call that arrived while
the previous one was running; a record is committed before its call is answered. A record the database refuses
fails only its own call; a store that fails (locked, unreachable) fails every call of that commit."""

import threading
from dataclasses import dataclass, field

from fhir_ire.errors import IreError

MAX_VARIABLES = 999  # bound parameters in one statement (SQLite's smallest limit): a larger group is split


class AuditError(IreError):
    """The audit store cannot be opened or written (a call whose record cannot be kept is not answered)."""


class AuditRefused(AuditError):
    """The store is reachable but refused a statement or its commit."""


@dataclass
class Pending:
    """One call's rows (kept together or not at all) waiting for the next commit, and what became of them."""

    table: str
    rows: list[tuple]
    done: bool = False
    error: Exception | None = field(default=None)


def _statement_groups(batch: list[Pending], widths: dict[str, int]) -> list[list[Pending]]:
    """The waiting calls by table, each table's in as few statements as the variable limit allows (a call's rows are
    never split); widths: each table's columns."""
    if len(batch) == 1:
        return [batch]
    groups = []
    for table in dict.fromkeys(p.table for p in batch):
        group, size = [], 0
        for p in (p for p in batch if p.table == table):
            n = len(p.rows) * widths[table]
            if group and size + n > MAX_VARIABLES:
                groups.append(group)
                group, size = [], 0
            group.append(p)
            size += n
        groups.append(group)
    return groups


class GroupCommit:
    """_commit(table, rows) for a store that writes a group of calls' rows (all of one table) in one statement
    (_write) and has something to do after each commit (_after_commit)."""

    def __init__(self, widths: dict[str, int]):
        self.widths = widths
        self.leader = threading.Lock()  # the call that commits for all waiting ones
        self.queue = threading.Lock()  # the pending list
        self.pending: list[Pending] = []

    def _write(self, group: list[Pending]) -> None:
        raise NotImplementedError

    def _after_commit(self) -> None:
        pass

    def _commit(self, table: str, rows: list[tuple]) -> None:
        """Group commit: the rows are committed, with those of every call waiting at the same time, before this
        returns; AuditError when they could not be. When a shared statement fails, each call's rows are tried again
        alone, so that one record the database refuses does not refuse the others."""
        mine = Pending(table, rows)
        with self.queue:
            self.pending.append(mine)
        with self.leader:  # held by the commit before ours: meanwhile others queue up behind us
            if not mine.done:
                with self.queue:
                    batch, self.pending = self.pending, []
                try:
                    self._commit_batch(batch)
                finally:  # whatever happened (even an interruption), no waiting call is left believing it is kept
                    for p in batch:
                        if not p.done:
                            p.error = p.error or AuditError("audit store: the commit was interrupted")
                            p.done = True
        if mine.error is not None:
            raise mine.error

    def _commit_batch(self, batch: list[Pending]) -> None:
        for group in _statement_groups(batch, self.widths):
            try:
                self._write(group)
            except AuditError as e:
                if len(group) == 1 or not isinstance(e, AuditRefused):  # the store itself failed: so did every call
                    for p in group:
                        p.error = e
                else:
                    for p in group:
                        try:
                            self._write([p])
                        except AuditError as alone:
                            p.error = alone
            for p in group:
                p.done = True
        self._after_commit()
