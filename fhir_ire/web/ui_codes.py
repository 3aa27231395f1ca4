"""The code explorer: find a code (CPT, HCPCS, ICD-10-CM, NUCC) by code or words, and a code's page through the
same functions $lookup and $translate answer with."""

from dataclasses import dataclass, field

from fhir_ire.errors import FhirError
from fhir_ire.terminology.lookup import lookup
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.registry import Registry
from fhir_ire.terminology.translate import translate
from fhir_ire.uris import normalize_system
from fhir_ire.web.ui_search import DocumentWords, Search, explored_systems, search


@dataclass
class CodeView:
    system: str
    system_name: str
    code: str
    display: str
    definition: str | None = None
    designations: list[tuple[str, str]] = field(default_factory=list)  # (use, value)
    properties: list[tuple[str, str]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    maps_from: list[dict] = field(default_factory=list)  # this code as source: {map, code, system, display, note}
    maps_to: list[dict] = field(default_factory=list)  # this code as target


def _value(part: dict):
    return next((v for k, v in part.items() if k.startswith("value")), None)


def _parts(param: dict) -> dict:
    return {p["name"]: _value(p) for p in param.get("part") or []}


class CodeFinder:
    """Built once: which code systems to look in, and a word index over the codes the documents name."""

    def __init__(self, registry: Registry):
        self.registry = registry
        mapped = [normalize_system(g.get(side)) for cm in registry.index.all("ConceptMap")
                  for g in cm.get("group") or [] for side in ("source", "target")]
        explored = explored_systems(registry.index) | set(mapped)  # not the FHIR core code systems also held
        self.systems = [s for s in dict.fromkeys(mapped + sorted(registry.codesystems))
                        if s in registry.codesystems and s in explored]
        entries = {}  # the codes the documents name, with the documents' words for them
        for url in self.systems:
            cs = self.registry.scope().codesystem(url)
            if cs is not None and cs.content == "fragment":
                for c in cs.concepts():
                    entries[(url, c.code)] = " ".join([c.code, c.display or ""] + [d.get("value", "") for d in
                                                                                   c.designations])
        for cm in registry.index.all("ConceptMap"):  # targets in full code systems (ICD-10-CM, NUCC) the maps name
            for g in cm.get("group") or []:
                for el in g.get("element") or []:
                    for t in el.get("target") or []:
                        key = (normalize_system(g.get("target")), t.get("code"))
                        entries.setdefault(key, f"{t.get('code')} {t.get('display') or ''}")
        self.documents = DocumentWords(entries)

    def name(self, url: str) -> str:
        cs = self.registry.scope().codesystem(url)
        return (cs.title or cs.name or url) if cs else url

    def find_code(self, code: str, system: str | None = None) -> list[tuple[str, str]]:
        """(system, code) of every explored code system holding this code (as typed, or upper-cased), or of the
        given code system (any the server holds)."""
        scope, found = self.registry.scope(), []
        for url in [normalize_system(system)] if system else self.systems:
            cs = scope.codesystem(url)
            concept = cs and (cs.find(code) or cs.find(code.upper()))
            if concept:
                found.append((url, concept.code))
        return found

    def search(self, text: str, system: str | None = None) -> Search:
        return search(self, text, system)

    def view(self, system: str, code: str) -> CodeView:
        """A code's page: $lookup for its displays and properties, $translate both ways for its map entries."""
        scope = self.registry.scope()
        looked = lookup(scope, Params([("system", system), ("code", code)]))
        params = looked["parameter"]
        view = CodeView(system, self.name(system), code, next((_value(p) for p in params if p["name"] == "display"), code))
        view.definition = next((_value(p) for p in params if p["name"] == "definition"), None)
        for p in params:
            parts = _parts(p) if p["name"] in ("designation", "property") else {}
            if p["name"] == "designation":
                use = parts.get("use") or {}
                view.designations.append((use.get("display") or use.get("code") or "", parts.get("value") or ""))
            elif p["name"] == "property":
                value = parts.get("value")
                view.properties.append((parts.get("code"), value.get("code") if isinstance(value, dict) else value))
        concept = scope.codesystem(system).find(code)
        view.children = list(concept.children) if concept else []
        view.maps_from = self._matches(Params([("system", system), ("code", code)]), "concept")
        view.maps_to = self._matches(Params([("targetSystem", system), ("targetCode", code)]), "source")
        return view

    def _matches(self, params: Params, which: str) -> list[dict]:
        scope = self.registry.scope()
        try:
            answer = translate(scope, params)
        except FhirError:
            return []
        out = []
        for p in answer["parameter"]:
            if p["name"] != "match":
                continue
            parts = _parts(p)
            coding = parts.get(which) or {}
            cm = scope.conceptmap(parts.get("originMap") or "")
            out.append({"map": (cm or {}).get("title") or parts.get("originMap"), "map_id": (cm or {}).get("id"),
                        "system": normalize_system(coding.get("system")), "code": coding.get("code"),
                        "display": coding.get("display") or self.display(coding.get("system"), coding.get("code")), "note": parts.get("message"),
                        "equivalence": parts.get("equivalence")})
        return out

    def display(self, system: str, code: str) -> str:
        cs = self.registry.scope().codesystem(system)
        concept = cs.find(code or "") if cs else None
        return (concept.display if concept else None) or ""
