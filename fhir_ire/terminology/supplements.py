"""Code system supplements (`CodeSystem.content = supplement`): the designations, properties and concept extensions
a request (`useSupplement`) or a value set (`valueset-supplement`) adds to its base code system for one request."""

from fhir_ire.terminology.codesystems import CodeSystem, ResourceCodeSystem
from fhir_ire.terminology.outcome import TxError
from fhir_ire.uris import normalize_system

SOURCE = "_source"  # marks a designation that came from a supplement (lookup reports it as the `source` part)


def base_url(supplement: CodeSystem) -> str | None:
    """The code system a supplement supplements (`supplements` may carry a |version)."""
    target = (supplement.resource or {}).get("supplements")
    return normalize_system(target.split("|", 1)[0]) if isinstance(target, str) else None


def reference(cs: CodeSystem) -> str:
    return f"{cs.url}|{cs.version}" if cs.version else cs.url


def resolve(scope, canonicals) -> list[CodeSystem]:
    """The supplements named: each must be a known CodeSystem with content = supplement."""
    found = []
    for url in canonicals:
        cs = scope.codesystem(url, supplements=False) if isinstance(url, str) else None
        if cs is None or cs.content != "supplement":
            raise TxError(f"Required supplement not found: {url}", status=404, code="not-found",
                          tx_type="not-found", message_id="VALUESET_SUPPLEMENT_MISSING")
        found.append(cs)
    return found


def apply(base: CodeSystem, supplements: list[CodeSystem]) -> CodeSystem:
    """A view of base with the supplements' content merged in (only CodeSystem resources can be supplemented)."""
    if not supplements or not isinstance(base, ResourceCodeSystem):
        return base
    merged = ResourceCodeSystem(base.resource)
    merged.supplements = list(supplements)
    merged.text_index = base.text_index
    for supp in supplements:
        merged.property_defs = merged.property_defs + [d for d in supp.property_defs
                                                       if d.get("code") not in {p.get("code") for p in
                                                                                merged.property_defs}]
        for extra in supp.concepts():
            concept = merged.get(extra.code)
            if concept is None:
                continue
            concept.designations = concept.designations + [{**d, SOURCE: reference(supp)} for d in extra.designations]
            concept.properties = concept.properties + extra.properties
            concept.extensions = concept.extensions + extra.extensions
    return merged


def public(designation: dict) -> dict:
    """A designation as FHIR JSON (without the internal supplement marker)."""
    return {k: v for k, v in designation.items() if k != SOURCE}
