"""A word index of a code system's displays and codes, built once at load (SQLite FTS5, in memory): text search
for `$expand` `filter` and for the pages' search box that never walks the whole code system.

A concept matches a text when every word of the text begins a word of its display ("malig pancr" finds "Malignant
neoplasm of pancreas"), or when the text begins its code ("C25" finds C25 and C25.0). Words are runs of letters and
digits, compared without case. Small code systems sent with a request are matched concept by concept with the same
rule (`has_words`)."""

import re
import sqlite3
import threading
from bisect import bisect_left

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 16  # words of a search text that count; a longer text is cut, never walked word by word


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
    """FTS5 over the displays (row id = the concept's position in code system order) and the sorted codes."""

    def __init__(self, entries):
        self.codes: list[str] = []
        self._lock = threading.Lock()  # one connection per worker, shared by its threads
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("CREATE VIRTUAL TABLE words USING fts5(display, tokenize='unicode61', content='', "
                         "detail=none)")
        self._db.executemany("INSERT INTO words(rowid, display) VALUES (?, ?)", self._rows(entries))
        self._db.execute("INSERT INTO words(words) VALUES ('optimize')")
        self._by_code = sorted((code.lower(), i) for i, code in enumerate(self.codes))
        self.ordinals = {code: i for i, code in enumerate(self.codes)}

    def _rows(self, entries):
        for ordinal, (code, display) in enumerate(entries):
            self.codes.append(code)
            yield ordinal, display or ""

    def __len__(self) -> int:
        return len(self.codes)

    def _code_hits(self, prefix: str) -> set[int]:
        lo = bisect_left(self._by_code, (prefix,))
        hits = set()
        for code, ordinal in self._by_code[lo:]:
            if not code.startswith(prefix):
                break
            hits.add(ordinal)
        return hits

    def search(self, text: str) -> list[int]:
        """Positions (code system order) of the concepts that match text."""
        words = query_words(text)
        hits = self._code_hits(prefix) if (prefix := code_prefix(text)) else set()
        if words:
            query = " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)
            with self._lock:
                hits.update(row[0] for row in self._db.execute("SELECT rowid FROM words WHERE words MATCH ?",
                                                               (query,)))
        return sorted(hits)
