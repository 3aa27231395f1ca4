"""DTR Questionnaires on the pages: which rule actions link one (a definitionCanonical of the action or of its
sub-actions, or a canonical in its determination), each item in words, and the quote each item was built from (the
item's own Provenance, whose target names it with the targetElement extension)."""

from collections import defaultdict

from fhir_ire.store import ResourceIndex
from fhir_ire.web.ui_rules import determination

TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"
ANSWERS = {"boolean": "yes or no", "attachment": "attach a document", "string": "a short text", "text": "a text",
           "date": "a date", "dateTime": "a date and time", "integer": "a number", "decimal": "a number",
           "choice": "choose an answer", "open-choice": "choose or write an answer", "quantity": "a quantity",
           "reference": "a record", "url": "a web address", "time": "a time"}


def item_words(item: dict) -> str:
    """What a Questionnaire item asks for, in words: the answer it takes, whether several may be given, and whether
    it is required."""
    need = "required" if item.get("required") else "optional"
    if item.get("type") == "group":
        return need
    if item.get("type") == "display":
        return "information"
    answer = ANSWERS.get(item.get("type"), item.get("type") or "an answer")
    if item.get("repeats"):
        answer = "attach one or more documents" if item.get("type") == "attachment" else f"{answer}, one or more"
    return f"{answer}; {need}"


def _canonicals(action: dict) -> list[str]:
    det = determination(action) or {}
    urls = [a.get("definitionCanonical") for a in [action] + (action.get("action") or [])]
    for value in det.values():
        urls += value if isinstance(value, list) else [value]
    return [u for u in urls if isinstance(u, str) and "/Questionnaire/" in u]


class Forms:
    """Built once: the Questionnaires each rule action links, the actions that link each Questionnaire, and the
    quotes of each item."""

    def __init__(self, index: ResourceIndex, rules: list):
        self.linked: dict[tuple[str, str], list[dict]] = {}  # (rule id, action id) -> Questionnaires
        self.askers: dict[str, list[tuple]] = defaultdict(list)  # Questionnaire id -> [(rule, action)]
        for rule in rules:
            for act in rule.resource.get("action") or []:
                found = [index.canonical("Questionnaire", u) for u in dict.fromkeys(_canonicals(act))]
                self.linked[(rule.id, act.get("id"))] = [q for q in found if q]
                for q in self.linked[(rule.id, act.get("id"))]:
                    self.askers[q["id"]].append((rule, act))
        self.quotes: dict[tuple[str, str], list[dict]] = defaultdict(list)  # ("Questionnaire/id", linkId) -> entities
        for prov in index.all("Provenance"):
            for target in prov.get("target") or []:
                element = next((e.get("valueUri") or e.get("valueString") for e in target.get("extension") or []
                                if e.get("url") == TARGET_ELEMENT), None)
                if element and (target.get("reference") or "").startswith("Questionnaire/"):
                    self.quotes[(target["reference"], element)].extend(prov.get("entity") or [])

    def of(self, rule, action: dict) -> list[dict]:
        """The Questionnaires a rule action links."""
        return self.linked.get((rule.id, action.get("id")), [])

    def quotes_of(self, questionnaire: dict, link_id: str) -> list[dict]:
        return self.quotes.get((f"Questionnaire/{questionnaire['id']}", link_id), [])

    def any_in(self, entries) -> bool:
        """Whether any (rule, action, ...) of a matrix cell links a Questionnaire."""
        return any(self.of(e[0], e[1]) for e in entries)
