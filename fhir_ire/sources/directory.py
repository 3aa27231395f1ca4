"""The payer directory (data/payers.json): national payers, the Blue plans, government programs and each state's
program, with the other names publishers use; finding the names it knows in a text, and writing a name as the
directory spells it."""

import re
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.names import name_key

NAME = r"[A-Z][\w&.'-]*(?:[ ](?:of|and|&|[A-Z][\w&.'-]*))*"
ORG_WORDS = re.compile(r"\b(?:HEALTH|PLAN|CARE|INSURANCE|MUTUAL|ASSURANCE|BLUE|CROSS|SHIELD|MEDICAL|COMPANY|INC|"
                        r"PARTNERS|COMMUNITY|HMO|NETWORK|HEALTHCARE)\b", re.I)


_LONGER = re.compile(r"(\s+(?:(?:and|&)\s+)?)(?:[A-Z][\w&.'-]*,?\s+){0,4}?(?:Company|Inc\b|Incorporated|Corporation"
                     r"|LLC)")


class Directory:
    def __init__(self, data: dict):
        # each state's program of a program run by the states ('Texas Medicaid'), a payer whose parent is the program
        named = data["state_programs"].get("names", {})  # 'MassHealth': Massachusetts' program
        self.entries = data["payers"] + [{"name": f"{place} {e['name']}", "kind": "state-program", "parent": e["name"],
                                          "role": "state program", "aliases": list(named.get(place, []))}
                                         for e in data["payers"] if e.get("state_programs")
                                         for place in data["places"]["names"]]
        self.by_key: dict[str, dict] = {}
        for e in self.entries:
            for name in [e["name"], *e["aliases"]]:
                self.by_key.setdefault(name_key(name), e)
        self.generic = {name_key(n) for n in data["generic_names"]["names"]}
        names = sorted({n for e in self.entries for n in [e["name"], *e["aliases"]]}, key=len, reverse=True)
        self._names = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.I)
        self.places = sorted(data["places"]["names"], key=len, reverse=True)
        self.cues = data["cues"]
        self.identifier_types = data["identifier_types"]

    def lookup(self, name: str | None) -> dict | None:
        return self.by_key.get(name_key(name))

    def is_generic(self, name: str) -> bool:
        return name_key(name) in self.generic

    def find(self, text: str):
        """(start, end, directory entry) of the payer names in text, a place name after a brand included."""
        for m in self._names.finditer(text):
            if not m.group(0)[0].isupper():
                continue
            if len(m.group(0).split()) >= 2 and (more := _LONGER.match(text, m.end())) \
                    and not self._names.match(text, m.end() + len(more.group(1))):
                continue  # a name of several words that starts a longer company name ('Cigna Health and Life
                # Insurance Company') is not that name; a one-word brand ('Humana Insurance Company') still is
            end = m.end()
            for place in self.places:  # 'Anthem Blue Cross Connecticut', 'Kaiser Foundation Health Plan of Washington'
                for joint in (" ", " of "):
                    if text.startswith(joint + place, end) and not text[end + len(joint) + len(place):][:1].isalpha():
                        end += len(joint) + len(place)
                        break
                else:
                    continue
                break
            yield m.start(), end, self.lookup(text[m.start():end]) or self.lookup(m.group(0))


@lru_cache(maxsize=1)
def directory() -> Directory:
    return Directory(load("payers.json"))


def alternatives(items) -> str:
    return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))


def clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" ,;")
    name = name if re.search(r"\b(?:Inc|Co|Corp|Ltd)\.$", name) else name.rstrip(".")
    entry = directory().lookup(name)
    if not (entry and name.lower() in (n.lower() for n in [entry["name"], *entry["aliases"]])):
        name = re.sub(r"^(?:The|the)\s+", "", name)  # 'The Cigna Group' keeps its article: it is the name
    known = next((n for n in [entry["name"], *entry["aliases"]] if n.lower() == name.lower()), None) if entry else None
    return known or (name.title() if name.isupper() and len(name) > 4 else name)  # 'BCBSNC' as the directory spells it


