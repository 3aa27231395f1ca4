"""Canonical URIs in one place: code systems, CRD and CDS Hooks URLs, and our own canonical base."""

CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"  # read from older policies, never checked or published as ICD-10-CM
NUCC = "http://nucc.org/provider-taxonomy"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"

# Spellings seen on input that mean the same code system.
SYSTEM_ALIASES = {
    "https://www.ama-assn.org/go/cpt": CPT,
    "https://hl7.org/fhir/sid/icd-10-cm": ICD10CM,
    "https://nucc.org/provider-taxonomy": NUCC,
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": HCPCS,
    "https://bluebutton.cms.gov/resources/codesystem/hcpcs": HCPCS,
    "http://bluebutton.cms.gov/resources/codesystem/hcpcs": HCPCS,
}


def normalize_system(system: str | None) -> str | None:
    if system is None:
        return None
    return SYSTEM_ALIASES.get(system.rstrip("/"), system.rstrip("/") if system.endswith("/") else system)


DEFAULT_BASE = "http://fhir-ire.org/fhir"

# Extensions and code systems of ours, relative to the canonical base.
EXT_DETERMINATION = "/StructureDefinition/coverage-determination"
EXT_CARD = "/StructureDefinition/card"
CS_USAGE_CONTEXT = "/CodeSystem/usage-context"
CS_FINDING = "/CodeSystem/qa-finding"
CS_CPT_PROPERTY = "/CodeSystem/cpt-property"

CRD_COVERAGE_INFORMATION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CRD_BILLING_OPTIONS = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-billing-options"
CARD_TYPE_22 = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
CARD_TYPE_201 = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
CRD_TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"  # CRD coverage-assertion reasons (2.0.1 and 2.2)
CRD_COVERAGE_DETAIL = "http://terminology.hl7.org/CodeSystem/crd-coverage-detail"

PLAN_DEFINITION_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
SOPT = "https://nahdo.org/sopt"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
FHIRPATH = "text/fhirpath"
