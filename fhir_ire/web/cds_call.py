"""A CDS Hooks service call (POST /cds-services/{id}) as plain functions of plain data, for the Flask route
(web/cds.py) and for any front that answers it before Flask (web/direct.py DirectHook): `HookCalls.call` does the
work (authenticate, read within the size limit, parse and check, evaluate, encode, audit record) and returns the
status and body bytes; `HookCalls.route` and `HookCalls.answer` are what a front needs around it. Nothing here reads
Flask's request or builds a response object."""

import json
import logging

from fhir_ire.crd.audit import AuditError, JsonText
from fhir_ire.crd.hooks import evaluate
from fhir_ire.crd.security import AuthError
from fhir_ire.errors import FhirError, InvalidRequest, NotFound
from fhir_ire.terminology.outcome import error_outcome
from fhir_ire.web.cds_request import parse_call
from fhir_ire.web.encoding import encode, flask_json
from fhir_ire.web.guard import loggable
from fhir_ire.web.limits import check_body

JSON = "application/json"
log = logging.getLogger("fhir_ire.cds")
web_log = logging.getLogger("fhir_ire.web")  # where the guard logs an unexpected error (web/guard.py)


def unavailable(what: str, error: AuditError) -> FhirError:
    """found-37: an answer whose record cannot be kept is not given (503, the client may call again)."""
    log.error("%s not answered: %s", what, error)
    return FhirError("The audit store is not available; call again later", status=503, code="transient")


# the guard's answer to an error we did not foresee on a CDS Hooks path (web/guard.py error())
UNEXPECTED = json.dumps(error_outcome(FhirError("Internal error; see the server log", status=500, code="exception")),
                        ensure_ascii=False).encode()


class HookCalls:
    """The service calls of one app: its CRD engine, JWT checker (None: checks off), audit store, request limits,
    --base-url (None: each request's own) and the path of the FHIR base its card links point to."""

    def __init__(self, engine, checker, audit, limits, fixed_base: str | None, fhir_path: str, prefix: str):
        self.engine, self.checker, self.audit, self.limits = engine, checker, audit, limits
        self.fixed, self.fhir_path = fixed_base or None, fhir_path
        self.paths = {f"{prefix}/{service}": service for service in engine.services}

    def authenticate(self, authorization: str | None, path: str, audience: str) -> dict:
        """The token's claims ({} when JWT checks are off); FhirError 401 when refused."""
        if self.checker is None:
            return {}
        try:
            return self.checker.check(authorization, audience)
        except AuthError as e:
            log.info("rejected CDS Hooks call to %s: %s", loggable(path), loggable(e))  # never the token
            raise FhirError(f"unauthorized: {e}", status=401, code="login") from None

    def call(self, service_id: str, path: str, authorization: str | None, raw: bytes, base: str,
             audience: str | None = None) -> tuple[int, bytes]:
        """Status and body (application/json) of a call of service_id at path; base: the request's scheme and host
        (werkzeug's request.host_url without its slash); audience: the URL called (request.base_url, the root path
        too). A token must name --base-url then path, or the URL called. An error not foreseen is raised (answered
        500 by the guard or by answer())."""
        try:
            client = self.authenticate(authorization, path, self.fixed + path if self.fixed else audience).get("iss")
            service = self.engine.services.get(service_id)
            if service is None:
                raise NotFound(f"unknown CDS service '{service_id}'")
        except FhirError as err:
            return err.status, flask_json(error_outcome(err))
        body, outcome, status = None, None, 200
        try:
            body = parse_call(check_body(raw, self.limits), service, self.limits)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("CDS Hooks %s call, hookInstance %s", service_id, loggable(body.get("hookInstance")))
            outcome = evaluate(self.engine, service_id, body, (self.fixed or base) + self.fhir_path)
            answer = outcome.response
        except FhirError as err:
            status, answer = err.status, error_outcome(err)
        except (TypeError, AttributeError, KeyError, ValueError) as e:
            # FHIR content the schema lets through but that is not shaped as FHIR (a payor that is not a list...)
            log.info("malformed FHIR content in a %s call: %s", service_id, type(e).__name__)
            status, answer = 400, error_outcome(InvalidRequest("the request's FHIR resources are malformed "
                                                               "(context or prefetch)"))
        data = encode(answer)
        try:
            self.audit.record_call(
                service=service_id, hook=service["hook"], client=client, status=status,
                hook_instance=str(body.get("hookInstance")) if body else None,
                payer=outcome.payer_id if outcome else None, orders=outcome.orders if outcome else None,
                request=body, request_text=raw.decode() if body else None,  # parse_call checked it is UTF-8
                response=JsonText(data.decode()))
        except AuditError as e:
            err = unavailable(f"CDS Hooks {service_id} call", e)
            return err.status, flask_json(error_outcome(err))
        return status, data

    def route(self, method: str, path: str, query: str) -> str | None:
        """The service id of a request a front may give to answer(): a POST of exactly a service's path, no query.
        The front also leaves to the full app a request with an Origin (CORS headers), a body of no declared
        length or longer than the limit (413), and one whose body it could not read whole."""
        return self.paths.get(path) if method == "POST" and not query else None

    def answer(self, service_id: str, path: str, authorization: str | None, raw: bytes, base: str,
               audience: str | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        """call() as the Flask app answers it: status, headers and body, an unexpected error the guard's 500."""
        try:
            status, data = self.call(service_id, path, authorization, raw, base, audience)
        except Exception:  # noqa: BLE001 - what the guard does with it (web/guard.py on_unexpected)
            web_log.exception("unexpected error on %s %s", "POST", loggable(path))
            status, data = 500, UNEXPECTED
        return status, [("Content-Type", JSON), ("Content-Length", str(len(data)))], data
