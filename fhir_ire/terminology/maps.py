"""A ConceptMap's groups indexed by code, built once per map (at load for the served ones): $translate then looks up
the codes it is asked about, forward or reverse, and never walks a map's elements."""

from dataclasses import dataclass, field

from fhir_ire.uris import normalize_system


@dataclass
class IndexedGroup:
    source: str | None  # the group's source and target systems, normalized
    target: str | None
    by_code: dict[str, list[dict]] = field(default_factory=dict)  # source code -> its elements, in map order
    by_target: dict[str, list[tuple[dict, dict]]] = field(default_factory=dict)  # target code -> (element, target)


def index_conceptmap(cm: dict) -> list[IndexedGroup]:
    groups = []
    for group in cm.get("group") or []:
        indexed = IndexedGroup(normalize_system(group.get("source")), normalize_system(group.get("target")))
        for el in group.get("element") or []:
            if not isinstance(el, dict):
                continue
            if isinstance(el.get("code"), str):  # codes are strings; a request's code is looked up as one
                indexed.by_code.setdefault(el["code"], []).append(el)
            for t in el.get("target") or []:
                if isinstance(t, dict) and isinstance(t.get("code"), str):
                    indexed.by_target.setdefault(t["code"], []).append((el, t))
        groups.append(indexed)
    return groups
