"""Warnings about the resources an answer relied on: draft, experimental, deprecated or withdrawn code systems and
value sets (status, experimental, and the structuredefinition-standards-status extension)."""

from fhir_ire.terminology.outcome import issue

STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
MESSAGE_IDS = {"draft": "MSG_DRAFT", "experimental": "MSG_EXPERIMENTAL", "deprecated": "MSG_DEPRECATED",
               "withdrawn": "MSG_WITHDRAWN"}


def reference(resource: dict) -> str:
    return f"{resource.get('url')}|{resource['version']}" if resource.get("version") else str(resource.get("url"))


def status_kinds(resource: dict | None, standards_only: bool = False) -> list[str]:
    """Which of draft, experimental, deprecated, withdrawn apply to a canonical resource (only the last two for the
    value set a request names itself: its own draft status is the caller's business)."""
    if not resource:
        return []
    kinds = [e.get("valueCode") for e in resource.get("extension") or []
             if e.get("url") == STANDARDS_STATUS and e.get("valueCode") in ("deprecated", "withdrawn")]
    if not standards_only and resource.get("status") == "draft":
        kinds.append("draft")
    if not standards_only and resource.get("experimental") is True:
        kinds.append("experimental")
    return kinds


def _relied(top: dict | None, others: list[dict]) -> list[tuple[dict, str]]:
    pairs = [(top, kind) for kind in status_kinds(top, standards_only=True)] if top else []
    return pairs + [(r, kind) for r in others for kind in status_kinds(r)]


def expansion_warnings(top: dict | None, others: list[dict]) -> list[dict]:
    """`warning-{kind}` expansion parameters for the value set, and the code systems and value sets it used."""
    return [{"name": f"warning-{kind}", "valueUri": reference(r)} for r, kind in _relied(top, others)]


def status_issues(top: dict | None, others: list[dict]) -> list[dict]:
    """Information issues for validate-code answers that relied on such resources."""
    return [issue("information", "business-rule", "status-check", f"Reference to {kind} {r['resourceType']} "
                  f"{reference(r)}", None, MESSAGE_IDS[kind]) for r, kind in _relied(top, others)]
