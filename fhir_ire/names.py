"""How names are compared: payer names, aliases and identifiers match on lower-case letters and digits only.
One function, used by the build (merging payers the documents name) and the hook engine (matching a Coverage)."""

import re


def name_key(name: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", " ", (name or "").lower()).strip()
