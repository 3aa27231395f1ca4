"""A small FHIR R4 REST client for loading: retries with back-off, timeouts, and server errors as one line."""

import email.utils
import json
import random
import re
import time

import requests

from fhir_ire.errors import LoadError, RequestTooLarge, ServerRefused

FHIR_JSON = "application/fhir+json"
MAX_DELAY = 30.0


def is_retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def outcome_text(body, limit: int = 300) -> str:
    """The diagnostics of an OperationOutcome (or of a response body that is not one), on one line."""
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        parts = []
        for issue in body.get("issue") or []:
            text = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code") or ""
            where = issue.get("expression") or issue.get("location") or []
            parts.append(f"{text} ({', '.join(where)})" if where else text)
        text = "; ".join(p for p in parts if p) or "OperationOutcome without diagnostics"
    elif isinstance(body, (dict, list)):
        text = json.dumps(body)
    else:
        text = str(body or "").strip() or "empty body"
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    if found:
        return found.group(1).strip().lower()
    return type(exc).__name__


class FhirClient:
    """Talks to one FHIR base URL. Every failure ends as a LoadError whose text is one line."""

    def __init__(self, base: str, token: str | None = None, timeout: float = 60.0, retries: int = 4,
                 backoff: float = 1.0, sleep=time.sleep):
        if not re.match(r"^https?://[^/\s]+", base or ""):
            raise LoadError(f"{base!r} is not an http(s) URL of a FHIR server")
        self.base = base.rstrip("/")
        self.timeout, self.retries, self.backoff, self.sleep = timeout, retries, backoff, sleep
        self.session = requests.Session()
        self.session.headers.update({"Accept": FHIR_JSON, "User-Agent": "fhir-ire-load"})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.requests = 0
        self.retried = 0

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_DELAY)
        return min(self.backoff * 2 ** attempt, MAX_DELAY) * random.uniform(0.5, 1.0)

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        """Send one request; retry 429, 5xx, timeouts and connection errors; return the JSON of a 2xx answer."""
        url = f"{self.base}/{path}" if path else self.base
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        headers = {"Content-Type": f"{FHIR_JSON}; charset=utf-8"} if data is not None else {}
        what = f"{method} {url}"
        for attempt in range(self.retries + 1):
            retry_after = None
            try:
                self.requests += 1
                resp = self.session.request(method, url, data=data, headers=headers, timeout=self.timeout,
                                            allow_redirects=False)
            except requests.RequestException as e:
                if isinstance(e, requests.Timeout):
                    problem = f"no answer within {self.timeout:g} s"
                else:
                    problem = f"cannot connect: {_reason(e)}"
            else:
                if 200 <= resp.status_code <= 299:
                    return self._json(resp, what)
                problem = f"HTTP {resp.status_code}: {outcome_text(self._body(resp))}"
                if resp.status_code == 413:
                    raise RequestTooLarge(f"{what}: {problem}", 413)
                if 300 <= resp.status_code <= 399:
                    raise ServerRefused(f"{what}: the server redirects to {resp.headers.get('Location')}; "
                                        "use that address as --server", resp.status_code)
                if resp.status_code in (401, 403):
                    raise ServerRefused(f"{what}: {problem} (check --token)", resp.status_code)
                if not is_retryable(resp.status_code):
                    raise ServerRefused(f"{what}: {problem}", resp.status_code)
                retry_after = _retry_after(resp.headers.get("Retry-After"))
            if attempt < self.retries:
                self.retried += 1
                self.sleep(self._delay(attempt, retry_after))
        tries = f"{self.retries + 1} attempts" if self.retries else "1 attempt"
        raise LoadError(f"{what}: {problem} (after {tries})")

    @staticmethod
    def _body(resp: requests.Response):
        try:
            return resp.json()
        except ValueError:
            return resp.text[:500]

    @staticmethod
    def _json(resp: requests.Response, what: str) -> dict:
        try:
            body = resp.json()
        except ValueError:
            raise LoadError(f"{what}: HTTP {resp.status_code} but the answer is not JSON: "
                            f"{outcome_text(resp.text[:200])}") from None
        if not isinstance(body, dict):
            raise LoadError(f"{what}: HTTP {resp.status_code} but the answer is not a FHIR resource")
        return body

    def capabilities(self) -> dict:
        """GET metadata, checking that this is a FHIR R4 (4.0.x) server."""
        cap = self.request("GET", "metadata")
        if cap.get("resourceType") != "CapabilityStatement":
            raise LoadError(f"GET {self.base}/metadata: not a CapabilityStatement ({cap.get('resourceType')}); "
                            "is this the FHIR base URL?")
        version = str(cap.get("fhirVersion") or "")
        if version and not version.startswith("4.0"):
            raise LoadError(f"{self.base} speaks FHIR {version}; these bundles are FHIR R4 (4.0.1)")
        return cap

    def bundle(self, bundle: dict) -> dict:
        """POST a batch or transaction Bundle to the base URL; the response Bundle."""
        answer = self.request("POST", "", bundle)
        if answer.get("resourceType") != "Bundle":
            raise LoadError(f"POST {self.base}: expected a Bundle in answer, got {answer.get('resourceType')}")
        entries = answer.get("entry") or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise LoadError(f"POST {self.base}: the answer Bundle has malformed entries")
        if len(entries) != len(bundle.get("entry") or []):
            raise LoadError(f"POST {self.base}: {len(bundle.get('entry') or [])} entries sent, "
                            f"{len(answer.get('entry') or [])} answered")
        return answer
