"""Field labels (fhir_ire/data/labels.json): recognising 'Label: value' fields, labels run into the value before them,
known labels before their value without a colon, and the role a label gives its value."""

import re
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.sources import shapes

# A label the vocabulary does not know is still a field label when it is short and capitalised ('Work RVU:').
_GENERIC_LABEL = re.compile(r"^[A-Z][A-Za-z&/()'.\- ]{0,38}[A-Za-z)]$")
_PROSE_ROLES = ("title", "number", "section", "status")  # a long sentence after these labels is prose, not a value


def normal(label: str) -> str:
    return re.sub(r"\s+", " ", label.lower().replace(":", " ")).strip()


class Labels:
    def __init__(self, data: dict):
        self.roles: dict[str, list[tuple[str, str]]] = {}
        for entry in data["fields"]:
            for label in entry["labels"]:
                self.roles.setdefault(normal(label), []).append((entry["role"], entry["value"]))
        self.first_words = {lab.split(" ")[0] for lab in self.roles}
        alternatives = sorted(self.roles, key=len, reverse=True)
        body = "|".join(r"\s*".join(re.escape(w) for w in lab.split(" ")) for lab in alternatives)
        self._with_colon = re.compile(rf"(?<![A-Za-z])(?P<label>{body})\s*:", re.I)
        self._at_start = re.compile(rf"^(?P<label>{body})(?![A-Za-z])\s*:?\s*", re.I)

    @staticmethod
    @lru_cache(maxsize=1)
    def load() -> "Labels":
        return Labels(load("labels.json"))

    def is_label(self, text: str) -> bool:
        return normal(text) in self.roles

    def role(self, label: str, value: str) -> str | None:
        """The role of a known label's value: a number when the value is an identifier, else a title, etc."""
        roles = self.roles.get(normal(label), []) or self._date_suffix(label)
        for role, kind in roles:
            if kind == "identifier" and not shapes.identifier_run(value):
                continue
            if kind == "date" and not (shapes.parse_date(value) or shapes.is_not_available(value)
                                       or shapes.month_year(value) or any(shapes.find_dates(value))):
                continue
            return role
        return None

    def _date_suffix(self, label: str) -> list[tuple[str, str]]:
        """A label the vocabulary does not know that ends in a date label it knows ('CPT Effective Date', 'Code
        Effective Date') gives a date of that role."""
        words = normal(label).split(" ")
        for k in range(1, len(words) - 1):
            roles = [(r, v) for r, v in self.roles.get(" ".join(words[k:]), []) if v == "date"]
            if roles:
                return roles
        return []

    def _prose(self, label: str, value: str) -> bool:
        roles = [r for r, _ in self.roles.get(normal(label), [])]
        if not roles:  # a label the vocabulary does not know takes only a short value, never a sentence
            return len(value.split()) > 8 or value.rstrip().endswith((".", "?", "!")) and not shapes.is_value(value)
        long_sentence = len(value.split()) >= 12 and value.rstrip().endswith((".", "?"))
        return long_sentence and all(r in _PROSE_ROLES for r in roles)

    def split_fields(self, text: str) -> list[tuple[str, str, str]]:
        """[(label, value, rest)] of a line that starts with a field; rest is prose left after the last value.
        'Effective Date: 08/01/2011 Title: Liver Neoplasms' gives two fields; 'Policy # 00182 Original Effective
        Date: 09/22/2005' two; 'Medical Policy MP 7.01.109 Magnetic ...' one, with the rest as prose."""
        text = text.strip()
        first = self._first(text)
        if first is None:
            return []
        label, value_start = first
        cuts = [(m.start(), m.group("label"), m.end()) for m in self._with_colon.finditer(text, value_start)
                if text[m.start()].isupper()]
        fields, start, rest = [], value_start, ""
        bounds = cuts + [(len(text), None, None)]
        for cut, next_label, next_start in bounds:
            value = text[start:cut].strip()
            if not fields and not text[:value_start].rstrip().endswith(":"):
                kinds = {kind for _, kind in self.roles.get(normal(label), [])}
                run = (shapes.identifier_run(value) if "identifier" in kinds else "") or \
                    (_leading_date(value) if "date" in kinds else "")
                rest = value[len(run):].strip(" ,;")
                if not run or (cut < len(text) and rest) or rest[:1].islower():
                    return []  # a known label without a colon takes only a value of its shape, never a sentence
                value = run
            if not value or self._prose(label, value):
                return fields
            fields.append((label.strip(), value, rest))
            if next_label is None:
                break
            label, start = next_label, next_start
        return fields

    def _first(self, text: str) -> tuple[str, int] | None:
        """(label, where its value starts) when text starts with a known label, or a short generic label and ':'."""
        first = text.split(" ", 1)[0].lower().rstrip(":")
        if ":" not in text and first not in self.first_words:
            return None  # most lines: no label to look for
        if (m := self._at_start.match(text)) and text[:1].isupper():
            return m.group("label"), m.end()
        head, colon, _ = text.partition(":")
        if colon and _GENERIC_LABEL.match(head.strip()) and len(head.split()) <= 4 and not head.strip().isupper():
            return head.strip(), len(head) + 1
        return None

    def field_at_start(self, text: str) -> bool:
        return bool(self.split_fields(text))


def _leading_date(text: str) -> str:
    """The date (or list of dates: '12/09/13; 04/08/13') text starts with."""
    end = 0
    for start, stop, _ in shapes.find_dates(text):
        if text[end:start].strip(" ,;") not in ("", "and"):
            break
        end = stop
    if end:
        return text[:end]
    if shapes.is_not_available(text.split(" ")[0] if text else ""):
        return text.split(" ")[0]
    return ""
