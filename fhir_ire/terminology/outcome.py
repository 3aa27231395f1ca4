"""OperationOutcome issues in the shape the terminology ecosystem expects (tx-issue-type, message ids)."""

from fhir_ire.errors import FhirError

TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"
MESSAGE_ID = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"


def issue(severity: str, code: str, tx_type: str | None, text: str, path: str | list | None = None,
          message_id: str | None = None) -> dict:
    out = {}
    if message_id:
        out["extension"] = [{"url": MESSAGE_ID, "valueString": message_id}]
    out.update({"severity": severity, "code": code})
    details = {"text": text}
    if tx_type:
        details = {"coding": [{"system": TX_ISSUE_TYPE, "code": tx_type}], "text": text}
    out["details"] = details
    if path:
        paths = [path] if isinstance(path, str) else path
        out["expression"] = list(paths)  # issue.location is deprecated in R4 (XML specific); expression replaces it
    return out


def outcome(issues: list[dict]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": issues}


def error_outcome(err: FhirError) -> dict:
    return outcome([issue("error", err.code, err.tx_issue_type, err.diagnostics, err.expression,
                          getattr(err, "message_id", None))])


class TxError(FhirError):
    """An operation error that carries a tx-issue-type and message id."""

    def __init__(self, text, *, status=400, code="invalid", tx_type=None, path=None, message_id=None):
        super().__init__(text, status=status, code=code, tx_issue_type=tx_type,
                         expression=[path] if isinstance(path, str) else path)
        self.message_id = message_id
