"""Which payer a Coverage is for, and which Coverage a hook call is about (CRD hook-13, resp-43, resp-45).

The payers this service handles are the Organizations of type `pay` in the loaded bundles. A Coverage's payer is
matched by `payor.identifier` first, then by the referenced Organization (its identifiers, then its name and
aliases), then by `payor.display`. docs/crd.md says why the cases below are answered as they are.
"""

from dataclasses import dataclass, field
from datetime import date

from fhir_ire.crd.context import Fetcher, read_reference, relative, resources_of
from fhir_ire.crd.lineage import ancestry
from fhir_ire.errors import FhirError
from fhir_ire.names import name_key
from fhir_ire.store import ResourceIndex


class NoCoverage(FhirError):
    """hook-13: no Coverage, or none whose payer this endpoint handles (400 with an OperationOutcome)."""

    status, code = 400, "business-rule"


def _system(system) -> str:
    return str(system or "").strip().rstrip("/")


def is_payer(org: dict) -> bool:
    return any(c.get("code") == "pay" for t in org.get("type") or [] for c in t.get("coding") or [])


class PayerIndex:
    """The handled payers by (system, identifier value), by identifier value alone, and by name and alias."""

    def __init__(self, index: ResourceIndex):
        self.orgs: dict[str, dict] = {}
        self.identifiers: dict[tuple[str, str], str] = {}
        self.values: dict[str, set[str]] = {}
        self.names: dict[str, str] = {}
        for org in index.all("Organization"):
            if not is_payer(org):
                continue
            self.orgs[org["id"]] = org
            for ident in org.get("identifier") or []:
                value = str(ident.get("value") or "").strip()
                if value:
                    self.identifiers[(_system(ident.get("system")), value)] = org["id"]
                    self.values.setdefault(value, set()).add(org["id"])
            for name in [org.get("name"), *(org.get("alias") or [])]:
                if name:
                    self.names.setdefault(name_key(name), org["id"])
        self.lineage = ancestry(self.orgs)  # {payer id: the payers it is part of, nearest first}
        self.parents = {a for line in self.lineage.values() for a in line}

    def by_identifier(self, ident) -> str | None:
        """An identifier with a system must match system and value; one without a system matches a value that
        only one handled payer carries."""
        if not isinstance(ident, dict) or not str(ident.get("value") or "").strip():
            return None
        value = str(ident["value"]).strip()
        if ident.get("system"):
            return self.identifiers.get((_system(ident["system"]), value))
        owners = self.values.get(value, set())
        return next(iter(owners)) if len(owners) == 1 else None

    def by_name(self, name) -> str | None:
        return self.names.get(name_key(name)) if isinstance(name, str) and name.strip() else None

    def label(self, payer_id: str) -> str:
        """resp-4: the insurer's name as the patient's card shows it (the Organization's name)."""
        return self.orgs[payer_id].get("name") or payer_id


def _referenced_org(payor: dict, coverage: dict, request: dict, fetcher: Fetcher) -> dict | None:
    ref = payor.get("reference")
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith("#"):
        return next((r for r in coverage.get("contained") or [] if f"#{r.get('id')}" == ref), None)
    prefetch = request.get("prefetch") or {}
    for value in prefetch.values():
        for r in resources_of(value):
            if r.get("resourceType") == "Organization" and f"Organization/{r.get('id')}" == relative(ref):
                return r
    if relative(ref, fetcher.server).startswith("Organization/"):
        found = read_reference(fetcher, ref, "the payer Organization")
        return found if isinstance(found, dict) and found.get("resourceType") == "Organization" else None
    return None


def _org_payer(payers: PayerIndex, org: dict) -> str | None:
    """The handled payer a Coverage's payor Organization is: by its identifiers, then its name and aliases."""
    for ident in org.get("identifier") or []:
        if found := payers.by_identifier(ident):
            return found
    for name in [org.get("name"), *(org.get("alias") or [])]:
        if found := payers.by_name(name):
            return found
    return None


def match_payer(payers: PayerIndex, coverage: dict, request: dict, fetcher: Fetcher) -> str | None:
    """The handled payer of a Coverage: payor.identifier, then the referenced Organization, then payor.display."""
    payors = [p for p in coverage.get("payor") or [] if isinstance(p, dict)]
    for p in payors:
        if found := payers.by_identifier(p.get("identifier")):
            break
    else:
        for p in payors:
            org = _referenced_org(p, coverage, request, fetcher)
            if org is not None and (found := _org_payer(payers, org)):
                break
        else:
            for p in payors:
                if found := payers.by_name(p.get("display")):
                    break
            else:
                return None
    return _most_specific(payers, found, payors, coverage, request, fetcher) if len(payors) > 1 and \
        found in payers.parents else found


def _most_specific(payers: PayerIndex, found: str, payors: list[dict], coverage: dict, request: dict,
                   fetcher: Fetcher) -> str:
    """A Coverage that names a payer and also one that is part of it (Medicare and the contractor of the member's
    jurisdiction, a brand and its regional plan) is the more specific one's: the request shows which it is."""
    for p in payors:  # an Organization is read (perhaps from the EHR again) only when the payor says no more
        other = payers.by_identifier(p.get("identifier")) or payers.by_name(p.get("display"))
        if other is None and (org := _referenced_org(p, coverage, request, fetcher)) is not None:
            other = _org_payer(payers, org)
        if other and found in payers.lineage.get(other, ()):
            found = other
    return found


def is_active(coverage: dict, today: date) -> bool:
    """Status active (or not stated) and today inside the coverage period, when one is given."""
    if coverage.get("status") not in (None, "active"):
        return False
    period, day = coverage.get("period") or {}, today.isoformat()
    start, end = str(period.get("start") or "")[:10], str(period.get("end") or "")[:10]
    return not (start and day < start) and not (end and day > end)


@dataclass
class Resolution:
    """What the call's coverage is: `ok` (one active Coverage of a handled payer), `inactive` or `ambiguous`
    (resp-45: not-covered), or `technical` (resp-43: indeterminate, the EHR's FHIR server failed)."""

    kind: str
    coverages: list[dict] = field(default_factory=list)
    payer_id: str | None = None
    reason: str = ""


def resolve_coverage(payers: PayerIndex, coverages: list[dict], request: dict, fetcher: Fetcher,
                     today: date) -> Resolution:
    if not coverages:
        if "coverage" in fetcher.failures:
            return Resolution("technical", reason="The patient's Coverage could not be read from the EHR's FHIR "
                                                  f"server ({fetcher.failures['coverage']})")
        raise NoCoverage("No Coverage for the patient was prefetched or could be read from the FHIR server "
                         "(CRD hook-13: the primary Coverage is required)", expression=["prefetch.coverage"])
    handled = [(c, p) for c in coverages if (p := match_payer(payers, c, request, fetcher))]
    if not handled:
        if "the payer Organization" in fetcher.failures:
            return Resolution("technical", coverages=coverages[:1],
                              reason="The Coverage's payer Organization could not be read from the EHR's FHIR server "
                                     f"({fetcher.failures['the payer Organization']})")
        raise NoCoverage("The Coverage's payer is not a payer this CRD service handles (CRD hook-13: matched by "
                         "payor.identifier, the referenced Organization or payor.display)",
                         code="not-supported", expression=["Coverage.payor"])
    active = [(c, p) for c, p in handled if is_active(c, today)]
    if len(active) == 1:
        return Resolution("ok", [active[0][0]], active[0][1])
    if len(active) > 1:
        return Resolution("ambiguous", [c for c, _ in active], active[0][1],
                          f"{len(active)} active Coverages of payers this service handles: the coverage for this "
                          "order cannot be resolved to a single one")
    latest = max(handled, key=lambda cp: str((cp[0].get("period") or {}).get("end") or ""))
    return Resolution("inactive", [latest[0]], latest[1], "The patient's coverage with this payer is not active "
                      f"(status {latest[0].get('status') or 'not stated'}"
                      + (f", period ended {latest[0]['period']['end']}" if (latest[0].get("period") or {}).get("end")
                         else "") + ")")
