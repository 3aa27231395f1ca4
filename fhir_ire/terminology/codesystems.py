"""Code systems the server answers for: any CodeSystem resource, and the full ICD-10-CM and NUCC code sets."""

from dataclasses import dataclass, field
from functools import lru_cache

from fhir_ire.codesets import icd10cm
from fhir_ire.terminology.textindex import TextIndex
from fhir_ire.uris import ICD10CM, NUCC

# a deprecated concept is still active (R5 concept-properties#status): only retired and inactive ones are not
INACTIVE_STATUSES = {"retired", "inactive"}
NOT_SELECTABLE_URI = "http://hl7.org/fhir/concept-properties#notSelectable"
STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"


@dataclass
class Concept:
    code: str
    display: str | None = None
    definition: str | None = None
    designations: list = field(default_factory=list)
    properties: list = field(default_factory=list)  # [{"code": .., "value<Type>": ..}]
    parents: list = field(default_factory=list)
    children: list = field(default_factory=list)
    abstract: bool = False
    inactive: bool = False
    status: str | None = None
    extensions: list = field(default_factory=list)  # the concept's own extensions (label, order, rendering ...)


class CodeSystem:
    """The interface the operations use: lookup, hierarchy, and all concepts in hierarchy order."""
    url: str
    version: str | None = None
    name: str | None = None
    title: str | None = None
    content: str = "complete"
    case_sensitive: bool = True
    property_defs: list = []
    resource: dict | None = None
    size: int = 0
    supplements: list = []  # the supplements merged into this view (supplements.apply)
    text_index: TextIndex | None = None  # word index of displays, built at load for large code systems
    has_inactive: bool = False

    def get(self, code: str) -> Concept | None:
        raise NotImplementedError

    def find(self, code: str) -> Concept | None:
        """The concept for code, ignoring case when the code system is case-insensitive."""
        c = self.get(code)
        if c is None and not self.case_sensitive:
            c = self._lower().get(code.lower())
        return c

    def _lower(self) -> dict:
        return {}

    def concepts(self):
        raise NotImplementedError

    def descendants(self, code: str) -> list[str]:
        out, stack = [], list(reversed(self.get(code).children)) if self.get(code) else []
        seen = set()
        while stack:
            c = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            out.append(c)
            stack.extend(reversed(self.get(c).children if self.get(c) else []))
        return out

    def is_a(self, code: str, ancestor: str) -> bool:
        """code is ancestor or one of its descendants."""
        seen, stack = set(), [code]
        while stack:
            c = stack.pop()
            if c == ancestor:
                return True
            if c in seen:
                continue
            seen.add(c)
            concept = self.get(c)
            stack.extend(concept.parents if concept else [])
        return False


def _dicts(value) -> list[dict]:
    """The objects of a JSON array; inline resources are not trusted to have the FHIR shape."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _value(prop: dict):
    return next((v for k, v in prop.items() if k.startswith("value")), None)


class ResourceCodeSystem(CodeSystem):
    """A FHIR CodeSystem resource, nested concepts flattened with parent and child links."""

    def __init__(self, resource: dict):
        self.resource = resource
        self.url = resource.get("url")
        self.version = resource.get("version")
        self.name = resource.get("name")
        self.title = resource.get("title")
        self.content = resource.get("content", "complete")
        self.case_sensitive = resource.get("caseSensitive", True) is not False
        self.property_defs = _dicts(resource.get("property"))
        # notSelectable by its code, or under another code that the concept-properties URI identifies
        self._abstract_codes = {"notSelectable"} | {p.get("code") for p in self.property_defs
                                                   if p.get("uri") == NOT_SELECTABLE_URI}
        self._concepts: dict[str, Concept] = {}
        self._walk(_dicts(resource.get("concept")), None)
        for c in self._concepts.values():  # parent/child expressed as properties
            for p in c.properties:
                if p.get("code") == "parent" and _value(p) in self._concepts and _value(p) not in c.parents:
                    c.parents.append(_value(p))
                    self._concepts[_value(p)].children.append(c.code)
        self.size = len(self._concepts)
        self.has_inactive = any(c.inactive for c in self._concepts.values())
        self._lowered = None

    def _walk(self, concepts, parent):
        for raw in concepts:
            if not isinstance(raw, dict) or not isinstance(raw.get("code"), str):
                continue
            props = _dicts(raw.get("property"))
            extensions = _dicts(raw.get("extension"))
            status = next((_value(p) for p in props if p.get("code") == "status"), None) or \
                next((e.get("valueCode") for e in extensions if e.get("url") == STANDARDS_STATUS and
                      e.get("valueCode") in ("deprecated", "withdrawn")), None)
            inactive = any(p.get("code") == "inactive" and _value(p) is True for p in props) or \
                (status in INACTIVE_STATUSES)
            abstract = any(p.get("code") in self._abstract_codes and _value(p) is True for p in props)
            c = self._concepts.get(raw["code"]) or Concept(
                code=raw["code"], display=raw.get("display"), definition=raw.get("definition"),
                designations=_dicts(raw.get("designation")), properties=props, abstract=abstract, inactive=inactive,
                status=status, extensions=extensions)
            self._concepts[c.code] = c
            if parent:
                c.parents.append(parent)
                self._concepts[parent].children.append(c.code)
            self._walk(_dicts(raw.get("concept")), c.code)

    def get(self, code):
        return self._concepts.get(code)

    def _lower(self):
        if self._lowered is None:
            self._lowered = {k.lower(): v for k, v in self._concepts.items()}
        return self._lowered

    def concepts(self):
        return iter(self._concepts.values())


class Icd10cmCodeSystem(CodeSystem):
    """ICD-10-CM from simple-icd-10-cm, with its hierarchy of categories and subcategories."""
    url, name, title, content = ICD10CM, "ICD10CM", "International Classification of Diseases, 10th Revision, " \
                                                    "Clinical Modification", "complete"
    property_defs = [{"code": "parent", "type": "code"}, {"code": "child", "type": "code"}]

    def __init__(self):
        self.version = icd10cm.version()
        self.size = len(icd10cm.all_codes())
        self.text_index = TextIndex(icd10cm.titles, background=True)  # 98,000 titles: the worker answers meanwhile

    def get(self, code):
        return _icd_concept(code.upper()) if isinstance(code, str) else None

    def concepts(self):
        return (self.get(c) for c in icd10cm.all_codes())

    def descendants(self, code):
        return icd10cm.descendants(code)

    def is_a(self, code, ancestor):
        return code == ancestor or icd10cm.is_ancestor(ancestor, code)


@lru_cache(maxsize=4096)  # bounded: memory stays flat however many concepts requests touch
def _icd_concept(code: str) -> Concept | None:
    if not icd10cm.is_code(code):
        return None
    p = icd10cm.parent(code)
    return Concept(code=code, display=icd10cm.display(code), parents=[p] if p else [],
                   children=icd10cm.children(code), abstract=not icd10cm.is_billable(code))


class NuccCodeSystem(CodeSystem):
    """The NUCC provider taxonomy read from the official CSV."""
    url, name, title, content = NUCC, "NUCCProviderTaxonomy", "NUCC Health Care Provider Taxonomy", "complete"
    property_defs = [{"code": "grouping", "type": "string"}, {"code": "classification", "type": "string"},
                     {"code": "specialization", "type": "string"}]

    def __init__(self, table):
        self.table = table
        self.version = table.version
        self.size = len(table.codes)

    def get(self, code):
        t = self.table.get(code)
        if t is None:
            return None
        props = [{"code": k, "valueString": v} for k, v in (("grouping", t.grouping), ("classification",
                 t.classification), ("specialization", t.specialization)) if v]
        return Concept(code=t.code, display=t.display, definition=t.definition or None, properties=props)

    def concepts(self):
        return (self.get(c) for c in sorted(self.table.codes))
