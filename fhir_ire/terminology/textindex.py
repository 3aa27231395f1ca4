"""A word index of a code system's displays and codes, built once at load (SQLite FTS5, in memory): text search
for `$expand` `filter` and for the pages' search box that never walks the whole code system.

A concept matches a text when every word of the text begins a word of its display ("malig pancr" finds "Malignant
neoplasm of pancreas"), or when the text begins its code ("C25" finds C25 and C25.0). Words are runs of letters and
digits, compared without case. Small code systems sent with a request are matched concept by concept with the same
rule (`has_words`)."""

import os
import re
import sqlite3
import threading
import weakref
from bisect import bisect_left

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 16  # words of a search text that count; a longer text is cut, never walked word by word
MAX_TERMS = 32  # a word that begins more index terms than this is left to FTS5's (slower) prefix query
_building: "weakref.WeakSet[TextIndex]" = weakref.WeakSet()  # indexes whose build was started in a thread


def finish_builds() -> None:
    """Wait for every index being built in a thread. serve calls it before fork(): a worker forked while the
    thread is inside SQLite inherits SQLite's lock held by a thread it does not have, and its first use of SQLite
    (the audit and jti stores too) waits forever; otherwise each worker would build the index again."""
    for index in list(_building):
        index._ensure()


def query_words(text: str) -> list[str]:
    """The words of a search text, lower-cased once (a filter is never lower-cased per concept)."""
    return list(dict.fromkeys(WORD.findall(text.lower())))[:MAX_WORDS]


def code_prefix(text: str) -> str | None:
    """A one-word search text may also be the start of a code."""
    text = text.strip().lower()
    return text if text and " " not in text else None


def has_words(code: str, display: str | None, words: list[str], prefix: str | None = None) -> bool:
    """The rule for one concept: its code starts with prefix, or each word begins one of its display's words."""
    if prefix and code.lower().startswith(prefix):
        return True
    mine = WORD.findall((display or "").lower())
    return bool(words) and all(any(w.startswith(q) for w in mine) for q in words)


class TextIndex:
    """FTS5 over the displays (row id = the concept's position in code system order) and the sorted codes.

    `entries` is a function giving (code, display) pairs in code system order. With `background`, the index is
    built by a thread started now, so a worker answers at once; a search that comes first waits for it."""

    def __init__(self, entries, background: bool = False):
        self._source = entries
        self._built = threading.Event()
        self._pid = os.getpid()
        self._build_lock = threading.Lock()
        self._lock = threading.Lock()  # one connection per worker, shared by its threads
        if background:
            _building.add(self)
            threading.Thread(target=self._ensure, name="text-index", daemon=True).start()
        else:
            self._ensure()

    def _ensure(self) -> None:
        if self._built.is_set():
            return
        if os.getpid() != self._pid:  # a fork while a thread was building: that thread is not in this process
            self._pid, self._build_lock, self._lock = os.getpid(), threading.Lock(), threading.Lock()
        with self._build_lock:
            if not self._built.is_set():
                self._build()
                self._built.set()

    def _build(self) -> None:
        codes: list[str] = []
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute("CREATE VIRTUAL TABLE words USING fts5(display, tokenize='unicode61', content='', detail=none)")
        db.executemany("INSERT INTO words(rowid, display) VALUES (?, ?)",
                       ((codes.append(code) or i, display or "") for i, (code, display) in enumerate(self._source())))
        db.execute("INSERT INTO words(words) VALUES ('optimize')")
        db.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, words, 'row')")
        # the indexed terms: a word's prefix is looked up here and sent as the exact terms it begins, which FTS5
        # answers far faster than its own prefix query
        self._terms = [row[0] for row in db.execute("SELECT term FROM temp.terms ORDER BY term")]
        self._by_code = sorted((code.lower(), i) for i, code in enumerate(codes))
        self._ordinals = {code: i for i, code in enumerate(codes)}
        self._codes, self._db = codes, db

    @property
    def codes(self) -> list[str]:
        self._ensure()
        return self._codes

    @property
    def ordinals(self) -> dict[str, int]:
        self._ensure()
        return self._ordinals

    def __len__(self) -> int:
        return len(self.codes)  # waits for a background build

    def _code_hits(self, prefix: str) -> set[int]:
        hits, i = set(), bisect_left(self._by_code, (prefix,))
        while i < len(self._by_code) and self._by_code[i][0].startswith(prefix):
            hits.add(self._by_code[i][1])
            i += 1
        return hits

    def _match(self, words: list[str]) -> str | None:
        """The FTS5 query for words (each the start of some term); None when a word begins no term."""
        parts = []
        for word in words:
            lo = bisect_left(self._terms, word)
            hi = bisect_left(self._terms, word + "\U0010ffff", lo)
            if lo == hi:
                return None
            if hi - lo > MAX_TERMS:
                parts.append('"' + word.replace('"', '""') + '"*')
            else:
                parts.append("(" + " OR ".join('"' + t.replace('"', '""') + '"' for t in self._terms[lo:hi]) + ")")
        return " AND ".join(parts)

    def _query(self, sql: str, query: str, *args) -> list:
        with self._lock:
            return self._db.execute(sql, (query, *args)).fetchall()

    def search(self, text: str) -> list[int]:
        """Positions (code system order) of the concepts that match text."""
        self._ensure()
        words = query_words(text)
        hits = self._code_hits(prefix) if (prefix := code_prefix(text)) else set()
        if words and (query := self._match(words)):
            hits.update(row[0] for row in self._query("SELECT rowid FROM words WHERE words MATCH ?", query))
        return sorted(hits)

    def page(self, text: str, offset: int, count: int | None) -> tuple[int, list[int]]:
        """(how many concepts match text, the positions of those in [offset, offset+count)), counted and paged
        inside SQLite when the text is words only (the common case), without listing every match."""
        self._ensure()
        words, prefix = query_words(text), code_prefix(text)
        if prefix and self._code_hits(prefix) or not words:
            found = self.search(text)
            return len(found), found[offset: offset + count if count is not None else None]
        query = self._match(words)
        if query is None:
            return 0, []
        total = self._query("SELECT count(*) FROM words WHERE words MATCH ?", query)[0][0]
        rows = self._query("SELECT rowid FROM words WHERE words MATCH ? ORDER BY rowid LIMIT ? OFFSET ?", query,
                          -1 if count is None else count, offset)
        return total, [row[0] for row in rows]
