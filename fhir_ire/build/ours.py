"""The small code systems of our own that the published resources use, so every coding we emit resolves."""

from fhir_ire.build.context import BuildContext
from fhir_ire.build.codesystem import ROLE_ORDER
from fhir_ire.checks.findings import ISSUE_TYPES
from fhir_ire.data import load as load_data
from fhir_ire.uris import CS_FINDING, CS_USAGE_CONTEXT

USAGE_CONTEXT = {"payer": "The payer (Organization) a coverage rule belongs to",
                 "line-of-business": "The line of business a coverage rule is for"}
DESIGNATION_USE = {**{role: f"A {role} of the code, as a source document words it" for role in ROLE_ORDER},
                   "related": "The description a document gives when it lists the code as related",
                   "modifier": "The description a document gives of a modifier"}


def _codesystem(ctx: BuildContext, rid: str, path: str, name: str, title: str, concepts: dict) -> dict:
    return {"resourceType": "CodeSystem", "id": rid, "url": ctx.base + path, "version": "1.0.0", "name": name,
            "title": title, "status": "active", "experimental": False, "publisher": "fhir-ire",
            "caseSensitive": True, "content": "complete", "count": len(concepts),
            "concept": [{"code": c, "display": d} for c, d in concepts.items()]}


def build_our_codesystems(ctx: BuildContext) -> list[dict]:
    lines = {x["code"]: x["display"] for x in load_data("lines-of-business.json")["lines"]}
    findings = {code: code.replace("-", " ").capitalize() for code in ISSUE_TYPES}
    return [
        _codesystem(ctx, "fhir-ire-usage-context", CS_USAGE_CONTEXT, "FhirIreUsageContext",
                    "fhir-ire usage context types", USAGE_CONTEXT),
        _codesystem(ctx, "fhir-ire-line-of-business", "/CodeSystem/line-of-business", "FhirIreLineOfBusiness",
                    "Lines of business of payer policies", lines),
        _codesystem(ctx, "fhir-ire-designation-use", "/CodeSystem/designation-use", "FhirIreDesignationUse",
                    "Kinds of source wording kept as designations", DESIGNATION_USE),
        _codesystem(ctx, "fhir-ire-qa-finding", CS_FINDING, "FhirIreQaFinding", "QA finding codes", findings),
    ]
