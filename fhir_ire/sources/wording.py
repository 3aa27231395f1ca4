"""How payers word coverage (fhir_ire/data/coverage.json), compiled once: categories, conditions, scopes, prior
authorization and its negations, what announces criteria, lead-ins to superseded wording, sentences that restate."""

import re
from functools import lru_cache

from fhir_ire.data import load


def _phrases(items: list[str], whole: bool = False) -> re.Pattern:
    """One pattern of the phrases ('...' stands for up to 100 characters); whole: a phrase ends a word ('require' is
    not in 'requirements')."""
    end = r"(?!\w)" if whole else ""
    parts = [r"\b" + r".{0,100}?".join(re.escape(p.strip()) for p in item.split("...")) + end for item in items]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.I)


class Vocabulary:
    def __init__(self, data: dict):
        self.categories = [(c["category"], _phrases(c["phrases"])) for c in data["categories"]]
        self.conditions = re.compile("|".join(rf"\b{re.escape(w)}\b" if w[-1].isalnum() else rf"\b{re.escape(w)}"
                                              for w in data["conditions"]), re.I)
        self.scope = [(s, _phrases(p)) for s, p in data["scope"].items()]
        self.not_statements = _phrases(data["not_statements"]["phrases"])
        pa = data["prior_authorization"]
        self.pa_terms = _phrases(pa["terms"])
        self.pa_required = _phrases(pa["required"], whole=True)
        self.pa_not = _phrases(pa["not_required"])
        self.pa_hedges = _phrases(pa["hedges"])
        crit = data["criteria"]
        self.announce = _phrases(crit["announce"])
        self.counts = crit["counts"]
        self.continues = tuple(crit["continues"])
        self.openers = tuple(o.lower() for o in data["subordinate"]["openers"])
        self.superseded = _phrases(data["superseded"]["lead_ins"])
        self.restating = re.compile(rf"(?:{'|'.join(re.escape(w) for w in data['restating']['openers'])})\b", re.I)

    def category(self, text: str) -> tuple[str, re.Match] | None:
        for category, rx in self.categories:
            if m := rx.search(text):
                return category, m
        return None

    def prior_auth(self, text: str) -> bool | None:
        """True / False when the sentence says prior authorization is / is not required; None when it hedges or
        does not say."""
        if not self.pa_terms.search(text) or self.pa_hedges.search(text):
            return None
        if self.pa_not.search(text):
            return False
        return True if self.pa_required.search(text) else None


@lru_cache(maxsize=1)
def coverage_vocabulary() -> Vocabulary:
    return Vocabulary(load("coverage.json"))
