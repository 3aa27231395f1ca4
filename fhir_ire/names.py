"""How names are compared: payer names, aliases and identifiers. One function, used by the build (merging the payers
the documents name, matching them with the payer directory) and the hook engine (matching a Coverage's payor).

Two names are one payer when their keys are equal. The key keeps every distinguishing word and drops only what
publishers add or leave out freely: case, punctuation, spacing ("BlueCross" / "Blue Cross"), "and" / "&", a leading
"the", and trailing corporate words ("Cigna Healthcare", "Cigna Health", "CIGNA" -> "cigna"). Place names, plan
names and "of ..." always stay, so "Blue Cross and Blue Shield of Louisiana" and "Blue Cross of Idaho" never meet.
Short names a key cannot derive ("UHC", "Anthem") come from the payer directory (fhir_ire/data/payers.json)."""

import re

# Words a payer's name may carry or drop at its end without naming another payer.
CORPORATE_SUFFIXES = frozenset(
    "inc incorporated corp corporation co company companies llc ltd lp plc holdings group health healthcare "
    "insurance plan plans".split())


def name_key(name: str | None) -> str:
    words = re.findall(r"[a-z0-9]+", (name or "").lower().replace("&", " and "))
    words = [w for w in words if w != "and"]
    if words[:1] == ["the"]:
        words = words[1:]
    while len(words) > 1 and words[-1] in CORPORATE_SUFFIXES:
        words.pop()
    return "".join(words)
