"""Comparing a source's wording with a code set's: content words, so order and small words do not matter."""

import re
from functools import lru_cache

STOP_WORDS = frozenset("a an and or of the with without in on to for by part site other nos as at".split())


@lru_cache(maxsize=65536)
def _content_words(text: str) -> frozenset[str]:
    text = re.sub(r"\([^)]*\)", " ", text.lower())
    words = re.findall(r"[a-z0-9]+", text)
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
                     for w in words if w not in STOP_WORDS)


def content_words(text: str) -> set[str]:
    """The words that carry meaning (no stop words, plural -s dropped); the same texts recur, so computed once each."""
    return set(_content_words(text or ""))


def says_more_than(source: str, *official: str) -> set[str]:
    """The content words of the source text that none of the official texts carry (empty = they agree)."""
    known = set().union(*(content_words(o) for o in official))
    return content_words(source) - known
