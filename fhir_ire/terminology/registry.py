"""Where operations find code systems, value sets and concept maps: the loaded bundles, the full code sets, and the
resources a request sends inline (`tx-resource`), which win for that request only."""

from fhir_ire.errors import TooCostly
from fhir_ire.limits import Limits
from fhir_ire.store import ResourceIndex, version_key
from fhir_ire.terminology.codesystems import CodeSystem, Icd10cmCodeSystem, NuccCodeSystem, ResourceCodeSystem
from fhir_ire.terminology.maps import IndexedGroup, index_conceptmap
from fhir_ire.terminology.supplements import apply as apply_supplements, base_url, resolve as resolve_supplements
from fhir_ire.terminology.textindex import TextIndex
from fhir_ire.uris import normalize_system

INDEXED_SIZE = 500  # code systems this large get a word index at load; smaller ones are matched concept by concept


class Registry:
    """Built once at start-up from the index: CodeSystem views by url, plus ICD-10-CM, (when given) NUCC, and the
    FHIR core definitions (`core`) for what the bundles do not define themselves."""

    def __init__(self, index: ResourceIndex, nucc_table=None, core: ResourceIndex | None = None,
                 limits: Limits | None = None):
        self.index = index
        self.limits = limits or Limits()
        self.core = core or ResourceIndex()
        self.codesystems: dict[str, list[CodeSystem]] = {}
        for res in index.all("CodeSystem"):
            if isinstance(res.get("url"), str):
                self.codesystems.setdefault(res["url"], []).append(ResourceCodeSystem(res))
        for res in self.core.all("CodeSystem"):
            if res["url"] not in self.codesystems:
                self.codesystems[res["url"]] = [ResourceCodeSystem(res)]
        full = [Icd10cmCodeSystem()] + ([NuccCodeSystem(nucc_table)] if nucc_table else [])
        for cs in full:  # the full code set wins over a fragment of it
            self.codesystems[cs.url] = [cs] + [c for c in self.codesystems.get(cs.url, []) if c.content != "fragment"]
        for cs in (c for versions in self.codesystems.values() for c in versions):
            if cs.text_index is None and cs.size >= INDEXED_SIZE:
                cs.text_index = TextIndex(lambda cs=cs: ((c.code, c.display) for c in cs.concepts()))
        # served maps indexed by code once (the index keeps them, so an id is never reused while it is here)
        self.conceptmap_groups = {id(cm): index_conceptmap(cm) for cm in index.all("ConceptMap")}

    def scope(self, tx_resources: list[dict] = ()) -> "Scope":
        return Scope(self, tx_resources)


def _pick(candidates, version):
    if not version and len(candidates) == 1:  # most systems have one version: no version keys to work out
        return candidates[0]
    if version:
        exact = [c for c in candidates if _ver(c) == version]
        if exact:
            return exact[0]
        matching = [c for c in candidates if _ver(c) and is_version_match(version, _ver(c))]
        return max(matching, key=lambda c: version_key(_ver(c))) if matching else None
    return max(candidates, key=lambda c: version_key(_ver(c))) if candidates else None


def is_version_match(pattern: str, version: str) -> bool:
    """'1.x.x' or '1.0.*' style wildcards (semver); other versions only match exactly."""
    wanted, have = pattern.split("."), version.split(".")
    if not any(p in ("x", "X", "*") for p in wanted) or len(wanted) != len(have):
        return False
    return all(p in ("x", "X", "*") or p == h for p, h in zip(wanted, have))


def _ver(x):
    return x.version if isinstance(x, CodeSystem) else x.get("version")


class Scope:
    """One request's view: its tx-resources first, then the registry."""

    def __init__(self, registry: Registry, tx_resources):
        self.registry = registry
        self.rules = None  # the request's VersionRules, when an operation sets them
        self.display_language, self.lenient_display, self.active_only = None, False, False
        self.work_left = registry.limits.max_expansion_work
        self.supplements: dict[str, list] = {}  # base code system url -> supplements in force for this request
        self._supplemented: dict[int, CodeSystem] = {}
        self.local = {"CodeSystem": {}, "ValueSet": {}, "ConceptMap": {}}
        for r in tx_resources:
            rtype, url = r.get("resourceType"), r.get("url")
            if rtype in self.local and isinstance(url, str):
                value = ResourceCodeSystem(r) if rtype == "CodeSystem" else r
                self.local[rtype].setdefault(url, []).append(value)

    def codesystem(self, url: str | None, version: str | None = None, supplements: bool = True) -> CodeSystem | None:
        if not url:
            return None
        if "|" in url and version is None:
            url, version = url.split("|", 1)
        url = normalize_system(url)
        found = _pick(self.local["CodeSystem"].get(url, []), version) or \
            _pick(self.registry.codesystems.get(url, []), version)
        if found is None or not supplements or not self.supplements.get(url):
            return found
        if id(found) not in self._supplemented:
            self._supplemented[id(found)] = apply_supplements(found, self.supplements[url])
        return self._supplemented[id(found)]

    def spend(self, concepts: int, what: str) -> None:
        """Count concepts examined for this request; past the limit the request is too costly (422)."""
        self.work_left -= concepts
        if self.work_left < 0:
            raise TooCostly(f"Evaluating {what} would examine more than {self.registry.limits.max_expansion_work} "
                            "concepts (--max-expansion-work); use a narrower value set (an is-a filter, a text filter)",
                            status=422)

    def codesystem_versions(self, url: str) -> list[str]:
        url = normalize_system(url)
        return sorted({c.version for c in self.local["CodeSystem"].get(url, []) + self.registry.codesystems.get(url, [])
                       if c.version})

    def _canonical(self, rtype, url, version):
        if not url:
            return None
        if "|" in url and version is None:
            url, version = url.split("|", 1)
        found = _pick(self.local[rtype].get(url, []), version)
        if found:
            return found
        candidates = self.registry.index.by_url.get(rtype, {}).get(url, []) or \
            self.registry.core.by_url.get(rtype, {}).get(url, [])
        return _pick(candidates, version)

    def valueset(self, url, version=None) -> dict | None:
        return self._canonical("ValueSet", url, version)

    def conceptmap(self, url, version=None) -> dict | None:
        return self._canonical("ConceptMap", url, version)

    def conceptmap_groups(self, cm: dict) -> list[IndexedGroup]:
        """cm's groups indexed by code: from load for a served map, built now for one sent with the request."""
        found = self.registry.conceptmap_groups.get(id(cm))
        return found if found is not None else index_conceptmap(cm)

    def conceptmaps(self) -> list[dict]:
        local = [m for ms in self.local["ConceptMap"].values() for m in ms]
        return local + self.registry.index.all("ConceptMap")

    def check_supplements(self, canonicals) -> None:
        """Every supplement a request or value set requires must be a loaded CodeSystem with content=supplement;
        from now on this scope's views of their base code systems carry their content."""
        for supp in resolve_supplements(self, canonicals):
            listed = self.supplements.setdefault(base_url(supp) or "", [])
            if supp not in listed:
                listed.append(supp)
                self._supplemented.clear()
