"""A small FHIR server on loopback for the loader's unit tests: a real http.server in a thread, faults on demand.

It keeps resources by Type/id, answers batch GETs and PUT transactions, and can be told to answer the next
requests of a kind (metadata, read, transaction) with a status, a body, headers or a delay.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def outcome(text: str, code: str = "invalid") -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


class FakeFhir:
    def __init__(self):
        self.store: dict[str, dict] = {}
        self.log: list[tuple[str, int, dict]] = []  # (kind, body size, headers)
        self.faults: list[dict] = []
        self.max_body: int | None = None
        self.fhir_version = "4.0.1"
        self.batch_reads = True
        self.bundle_types: list[str] = []  # of the bundles that wrote
        self.refuse: dict[str, str] = {}  # "Type/id" -> diagnostics of a transaction refused because of it
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"

    def fail(self, kind: str, status: int, body=None, headers=None, times: int = 1, delay: float = 0.0):
        """Answer the next `times` requests of this kind (metadata, read, transaction) this way."""
        for _ in range(times):
            self.faults.append({"kind": kind, "status": status, "body": body, "headers": headers or {},
                                "delay": delay})

    def count(self, kind: str) -> int:
        return sum(1 for k, _, _ in self.log if k == kind)

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- FHIR behaviour -------------------------------------------------------------------------------

    def answer(self, kind: str, body: dict | None) -> tuple[int, object, dict]:
        if kind == "metadata":
            return 200, {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
                         "fhirVersion": self.fhir_version, "format": ["json"],
                         "software": {"name": "fakefhir"}}, {}
        if kind == "read":
            if not self.batch_reads:
                return 400, outcome("GET entries are not supported in batch"), {}
            entries = []
            for e in body.get("entry", []):
                found = self.store.get(e["request"]["url"])
                entries.append({"resource": found, "response": {"status": "200 OK"}} if found
                               else {"response": {"status": "404 Not Found", "outcome": outcome("gone", "not-found")}})
            return 200, {"resourceType": "Bundle", "type": "batch-response", "entry": entries}, {}
        if kind == "transaction":
            for e in body.get("entry", []):
                if e["request"]["url"] in self.refuse:
                    return 422, outcome(self.refuse[e["request"]["url"]], "processing"), {}
            entries = []
            for e in body.get("entry", []):
                url = e["request"]["url"]
                old = self.store.get(url)
                version = int(old["meta"]["versionId"]) + 1 if old else 1
                self.store[url] = {**e["resource"], "meta": {"versionId": str(version), "lastUpdated": "2026-01-01"}}
                entries.append({"response": {"status": "200 OK" if old else "201 Created", "location": url}})
            self.bundle_types.append(body.get("type"))
            return 200, {"resourceType": "Bundle", "type": f"{body.get('type')}-response", "entry": entries}, {}
        return 404, outcome("unknown request"), {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else None
                if self.command == "GET" and self.path == "/fhir/metadata":
                    kind = "metadata"
                elif self.command == "POST" and self.path == "/fhir" and isinstance(body, dict):
                    reads = all(e.get("request", {}).get("method") == "GET" for e in body.get("entry", []))
                    kind = "read" if reads else "transaction"  # transaction: any bundle that writes
                else:
                    kind = "other"
                with fake.lock:
                    fake.log.append((kind, len(raw), dict(self.headers)))
                    fault = next((f for f in fake.faults if f["kind"] == kind), None)
                    if fault:
                        fake.faults.remove(fault)
                        status, answer, headers = fault["status"], fault["body"], fault["headers"]
                    elif fake.max_body and len(raw) > fake.max_body:
                        status, answer, headers = 413, outcome(f"{len(raw)} bytes is too large"), {}
                    else:
                        status, answer, headers = fake.answer(kind, body)
                if fault and fault["delay"]:
                    time.sleep(fault["delay"])
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if isinstance(answer, str) else "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            do_GET = do_POST = _serve

        return Handler
