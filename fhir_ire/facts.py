"""The typed fact model: what the readers extract, each fact with the file, lines and verbatim quote it came from."""

from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar


@dataclass(frozen=True)
class Source:
    file: str
    line: int
    end_line: int
    quote: str

    def cite(self) -> str:
        lines = f"{self.line}" if self.line == self.end_line else f"{self.line}-{self.end_line}"
        return f"{self.file}:{lines}"


@dataclass(frozen=True)
class Fact:
    kind: ClassVar[str] = "fact"
    source: Source

    def to_json(self) -> dict:
        data = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = asdict(value) if isinstance(value, Source) else value
        return data


# --- any document ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CodeDescription(Fact):
    """A description of a procedure code. role: title | descriptor | summary | formal (CPT descriptor)."""
    kind: ClassVar[str] = "code-description"
    system: str
    code: str
    role: str
    text: str


@dataclass(frozen=True)
class CodeAttribute(Fact):
    """service-type, site-of-service, approach, imaging-included, effective-date of a code."""
    kind: ClassVar[str] = "code-attribute"
    system: str
    code: str
    name: str
    value: str


@dataclass(frozen=True)
class NotReportedWith(Fact):
    """"Do not report CODE in conjunction with A, B ..." wherever it occurs."""
    kind: ClassVar[str] = "not-reported-with"
    code: str
    others: tuple[str, ...]


@dataclass(frozen=True)
class PayerMention(Fact):
    kind: ClassVar[str] = "payer-mention"
    name: str


@dataclass(frozen=True)
class MissingData(Fact):
    """A "Data not available" marker, with the section it stands in."""
    kind: ClassVar[str] = "missing-data"
    section: str


@dataclass(frozen=True)
class TableCutOff(Fact):
    """A table that ends the document without its rows, or stops at end of file."""
    kind: ClassVar[str] = "table-cut-off"
    table: str
    rows: int


# --- code report tables ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModifierRow(Fact):
    kind: ClassVar[str] = "modifier"
    procedure: str
    code: str
    description: str
    when_to_use: str


@dataclass(frozen=True)
class TaxonomyRow(Fact):
    kind: ClassVar[str] = "taxonomy"
    procedure: str
    code: str
    specialty: str
    notes: str


@dataclass(frozen=True)
class DiagnosisRow(Fact):
    kind: ClassVar[str] = "diagnosis"
    procedure: str
    code: str
    description: str
    relevance: str


@dataclass(frozen=True)
class RelatedCodeRow(Fact):
    kind: ClassVar[str] = "related-code"
    procedure: str
    code: str
    description: str
    relationship: str


# --- reimbursement guide ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Payment(Fact):
    """A payment figure. setting: physician-non-facility | physician-facility | hospital-outpatient | asc."""
    kind: ClassVar[str] = "payment"
    code: str
    setting: str
    year: int | None
    amount: float | None
    rvu: float | None = None
    apc: str | None = None
    indicator: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Statement(Fact):
    """A quoted statement of a topic: category-iii, contractor-priced, documentation, no-ncd, indication."""
    kind: ClassVar[str] = "statement"
    topic: str
    text: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceWarning(Fact):
    """A device contraindication or potential adverse effect. type: contraindication | adverse-effect."""
    kind: ClassVar[str] = "device-warning"
    type: str
    device: str
    text: str


# --- payer coverage policy -------------------------------------------------------------------------

@dataclass(frozen=True)
class PolicyField(Fact):
    """payer, alias, title, number, line-of-business, product, effective-date, revision-date, review-date."""
    kind: ClassVar[str] = "policy-field"
    name: str
    value: str


@dataclass(frozen=True)
class CoverageStatement(Fact):
    """category: not-covered | investigational | covered-with-criteria | covered; scope: all | other-indications."""
    kind: ClassVar[str] = "coverage-statement"
    category: str
    text: str
    scope: str = "all"


@dataclass(frozen=True)
class Criterion(Fact):
    kind: ClassVar[str] = "criterion"
    text: str


@dataclass(frozen=True)
class PriorAuthorization(Fact):
    kind: ClassVar[str] = "prior-authorization"
    required: bool
    text: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class GovernedCode(Fact):
    kind: ClassVar[str] = "governed-code"
    system: str
    code: str
    description: str


# --- a document and its facts ----------------------------------------------------------------------

@dataclass
class DocumentFacts:
    file: str
    kind: str  # code-report | reimbursement-guide | payer-policy
    title: str
    sha256: str
    size: int
    facts: list[Fact] = field(default_factory=list)
    content: bytes = field(default=b"", repr=False, compare=False)  # the document's bytes (not in to_json)

    def of(self, cls):
        return [f for f in self.facts if isinstance(f, cls)]

    def to_json(self) -> dict:
        return {"file": self.file, "kind": self.kind, "title": self.title, "sha256": self.sha256,
                "size": self.size, "facts": [f.to_json() for f in self.facts]}
