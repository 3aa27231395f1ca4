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
    """What a document says it does not have ("Data not available"), with the section it stands in and the topic it
    is about when known (taxonomy | diagnoses | payments | modifiers | related-codes | payer-policies)."""
    kind: ClassVar[str] = "missing-data"
    section: str
    topic: str = ""


@dataclass(frozen=True)
class CodeMention(Fact):
    """A procedure code a document names outside its tables, with the words it gives for it (if any)."""
    kind: ClassVar[str] = "code-mention"
    system: str
    code: str
    description: str = ""


@dataclass(frozen=True)
class TableCutOff(Fact):
    """A table that ends the document without its rows, or stops at end of file; rows = -1: one row of it has fewer
    cells than its header (cut in the middle), and is left out."""
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
    """A field of a document: payer, alias, publisher, title, number, line-of-business, product, section, and dates
    named by their role (effective-date, original-effective-date, issued-date, revision-date, last-revision-date,
    review-date, last-review-date, annual-review-date, next-review-date, initiated-date, published-date,
    replaced-date). A date field whose text says it is not known ('NA') keeps that text as its value."""
    kind: ClassVar[str] = "policy-field"
    name: str
    value: str


@dataclass(frozen=True)
class CoverageStatement(Fact):
    """A coverage position: what the policy says about one procedure. category: not-covered | investigational |
    covered-with-criteria | covered; scope: all | other-indications. procedure: the modalities, sites and approach it
    names (procedures.json ids); codes: the (system, code) pairs the document ties to it; criteria: how many criteria
    it lists (None when none are listed or the list is cut off); criteria_announced: it says criteria apply."""
    kind: ClassVar[str] = "coverage-statement"
    category: str
    text: str
    scope: str = "all"
    procedure: str = ""
    codes: tuple[tuple[str, str], ...] = ()
    criteria: int | None = None
    criteria_announced: bool = False


@dataclass(frozen=True)
class Criterion(Fact):
    kind: ClassVar[str] = "criterion"
    text: str


@dataclass(frozen=True)
class PriorAuthorization(Fact):
    """Prior authorization is (required=True) or is not (False) needed, for the procedure and codes it names."""
    kind: ClassVar[str] = "prior-authorization"
    required: bool
    text: str
    items: tuple[str, ...] = ()
    procedure: str = ""
    codes: tuple[tuple[str, str], ...] = ()


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
    kind: str  # code-report | reimbursement-guide | payer-policy ("" when left out)
    title: str
    sha256: str
    size: int
    facts: list[Fact] = field(default_factory=list)
    content: bytes = field(default=b"", repr=False, compare=False)  # the document's bytes (not in to_json)
    missing: tuple[str, ...] = ()  # what a document of its kind usually says and this one does not (partly read)
    left_out: str = ""  # why the document was left out ("" when it was read)
    manifest: dict = field(default_factory=dict)  # what seeds/sources.json says about it (address, retrieved, payer)

    @property
    def status(self) -> str:
        return "left out" if self.left_out else "partly read" if self.missing else "read"

    def of(self, cls):
        return [f for f in self.facts if isinstance(f, cls)]

    def to_json(self) -> dict:
        data = {"file": self.file, "kind": self.kind, "title": self.title, "sha256": self.sha256, "size": self.size,
                "status": self.status}
        if self.missing:
            data["missing"] = list(self.missing)
        if self.left_out:
            data["left_out"] = self.left_out
        if self.manifest:
            data["manifest"] = self.manifest
        return data | {"facts": [f.to_json() for f in self.facts]}
