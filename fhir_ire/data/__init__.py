"""Reviewed data files the package ships (modalities, condition terms, lines of business, CRD discovery and
schemas), read once each."""

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    """The JSON data file at name (relative to this folder), parsed once per process."""
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))
