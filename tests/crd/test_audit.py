"""The audit store (CRD found-11, found-37) and the feedback kept in it: SQLite here, the same checks against a
real PostgreSQL in test_audit_postgresql.py; `fhir-ire audit` reads it back."""

import json
import sqlite3
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest

from fhir_ire import create_app
from fhir_ire.cli import main
from fhir_ire.crd.audit import AuditError, AuditStore
from fhir_ire.crd.audit_command import since_instant

from .conftest import ROOT, coverage, error_text, fixture, request, service_request

TOKEN = "ehr-access-token-0123456789"


def app_with(url, **config):
    return create_app({"BUNDLES": str(ROOT / "bundles"), "AUDIT_STORE": url, **config}).test_client()


@pytest.fixture
def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'audit.sqlite'}"


def calls_and_feedback(client, body):
    """One answered call, one refused call and one feedback post; returns the answered call's response."""
    answer = client.post("/cds-services/order-sign-crd", json=body)
    assert answer.status_code == 200
    assert client.post("/cds-services/order-sign-crd", json=fixture("order-sign-unknown-payer")).status_code == 400
    card = answer.get_json()["cards"][0]["uuid"]
    fed = client.post("/cds-services/order-sign-crd/feedback", json={"feedback": [
        {"card": card, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z",
         "overrideReason": {"userComment": "patient declined"}}]})
    assert fed.status_code == 200 and fed.get_json() == {"received": 1}
    return answer.get_json()


def with_token(body):
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 30, "scope": "x",
                                 "subject": "crd"}
    return body


def check_kept(store: AuditStore, body: dict, response: dict):
    first, refused = store.entries("calls")[-2:]
    assert (first["service"], first["hook"], first["status"], first["payer"]) == \
        ("order-sign-crd", "order-sign", 200, "independent-care-health-plan")
    assert first["hook_instance"] == body["hookInstance"] and first["response"] == response
    assert first["orders"] == [{"order": "ServiceRequest/sr-ire", "codes": ["0600T"], "covered": "not-covered"}]
    assert first["request"]["fhirAuthorization"]["access_token"] == "[redacted]"
    assert first["request"]["context"] == body["context"]
    assert refused["status"] == 400 and refused["response"]["resourceType"] == "OperationOutcome"
    (fed,) = store.entries("feedback")[-1:]
    assert fed["outcome"] == "overridden" and fed["card"] == response["cards"][0]["uuid"]
    assert fed["item"]["overrideReason"]["userComment"] == "patient declined"


def test_found_37_every_call_and_answer_and_feedback_is_kept(store_url):
    body = with_token(fixture("order-sign-not-covered"))
    response = calls_and_feedback(app_with(store_url), body)
    check_kept(AuditStore(store_url), body, response)


def test_found_37_the_bearer_token_is_never_stored(store_url, tmp_path):
    calls_and_feedback(app_with(store_url), with_token(fixture("order-sign-not-covered")))
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("audit.sqlite*"))
    assert stored and TOKEN.encode() not in stored


def test_found_37_the_request_is_kept_as_received_and_the_answer_as_sent(store_url, tmp_path):
    body = fixture("order-sign-not-covered")
    del body["fhirAuthorization"]  # with a token, the request is kept encoded again with the token redacted
    sent = json.dumps(body, indent=1)  # whitespace a re-encoding would not keep
    answer = app_with(store_url).post("/cds-services/order-sign-crd", data=sent, content_type="application/json")
    assert answer.status_code == 200
    with closing(sqlite3.connect(tmp_path / "audit.sqlite")) as db:
        assert db.execute("SELECT request, response FROM audit_calls").fetchall() == [(sent, answer.get_data(
            as_text=True))]


def test_found_11_records_older_than_the_retention_are_deleted(store_url):
    store = AuditStore(store_url, retention_days=30)
    store.record_call(service="s", hook="order-sign", hook_instance="h1", client=None, status=200, payer=None,
                      orders=[], request={}, response={})
    store.record_feedback("s", None, [{"card": "c", "outcome": "accepted"}])
    store.purge(datetime.now(timezone.utc) + timedelta(days=29))
    assert len(store.entries("calls")) == 1 and len(store.entries("feedback")) == 1
    store.purge(datetime.now(timezone.utc) + timedelta(days=31))
    assert store.entries("calls") == [] and store.entries("feedback") == []


def test_an_audit_store_that_cannot_be_written_refuses_the_call_with_503(tmp_path):
    (tmp_path / "taken").mkdir()  # a folder where the database file should be
    client = app_with(f"sqlite:///{tmp_path / 'taken'}")
    r = client.post("/cds-services/order-sign-crd", json=fixture("order-sign-not-covered"))
    assert r.status_code == 503 and "audit store" in error_text(r)


def record_together(store: AuditStore, clients: list) -> list[str]:
    """One record_call per client from as many threads, all queued behind a commit under way, so that they share
    the next one; what each call got ("kept" or the error)."""
    results = [None] * len(clients)

    def call(n):
        try:
            store.record_call(service="s", hook="order-sign", hook_instance=f"h{n}", client=clients[n], status=200,
                              payer=None, orders=[], request={}, response={})
            results[n] = "kept"
        except AuditError as e:
            results[n] = str(e)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(len(clients))]
    with store.leader:  # the commit under way
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(store.pending) < len(clients) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(store.pending) == len(clients)
    for t in threads:
        t.join(10)
    return results


def test_concurrent_calls_share_a_commit_and_a_refused_record_refuses_only_its_call(store_url):
    store = AuditStore(store_url)
    results = record_together(store, ["iss", "iss", object(), "iss"])  # sqlite3 cannot bind an object
    assert results[2].startswith("audit store (sqlite) failed")
    assert [r for n, r in enumerate(results) if n != 2] == ["kept"] * 3
    assert [e["hook_instance"] for e in store.entries("calls")] == ["h0", "h1", "h3"]


def test_concurrent_calls_to_an_unusable_store_are_all_refused(tmp_path):
    (tmp_path / "taken").mkdir()
    results = record_together(AuditStore(f"sqlite:///{tmp_path / 'taken'}"), ["iss"] * 4)
    assert all(r.startswith("audit store (sqlite) failed") for r in results)


def test_an_unknown_audit_store_scheme_is_refused():
    with pytest.raises(AuditError, match="mysql:// is not supported"):
        AuditStore("mysql://db/audit")


@pytest.mark.parametrize("body, status, message", [
    ({"feedback": [{"card": "c"}]}, 400, "outcome"),
    ({"feedback": [{"card": 7, "outcome": "accepted"}]}, 400, "card"),
    ({"feedback": {"card": "c"}}, 400, "'feedback' array"),
    ({"feedback": [{"card": "c", "outcome": "accepted"}] * 101}, 413, "at most 100"),
], ids=["no-outcome", "card-not-a-string", "not-an-array", "too-many-items"])
def test_bad_feedback_is_refused_and_nothing_is_kept(store_url, body, status, message):
    r = app_with(store_url).post("/cds-services/order-sign-crd/feedback", json=body)
    assert r.status_code == status and message in error_text(r)
    assert AuditStore(store_url).entries("feedback") == []


def test_one_feedback_post_is_bounded_in_size(store_url):
    client = app_with(store_url, FEEDBACK_MAX_BYTES=1000)
    big = {"feedback": [{"card": "c", "outcome": "accepted", "overrideReason": {"userComment": "x" * 2000}}]}
    r = client.post("/cds-services/order-sign-crd/feedback", json=big)
    assert r.status_code == 413 and "at most 1,000 bytes" in error_text(r)


def test_audit_command_prints_json_lines_by_hook_instance_and_time(store_url, capsys):
    client = app_with(store_url)
    for instance in ("a1b2c3d4-0000-4000-8000-000000000001", "a1b2c3d4-0000-4000-8000-000000000002"):
        body = request(orders=[service_request("sr-1", "0600T")], cov=coverage("iCare"))
        body["hookInstance"] = instance
        assert client.post("/cds-services/order-sign-crd", json=body).status_code == 200
    assert main(["audit", "--audit-store", store_url, "--hook-instance", "a1b2c3d4-0000-4000-8000-000000000002"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["hook_instance"] == "a1b2c3d4-0000-4000-8000-000000000002"
    assert main(["audit", "--audit-store", store_url, "--since", "1h"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["audit", "--audit-store", store_url, "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""


def test_audit_command_refuses_a_bad_since_with_one_line(store_url, capsys):
    assert main(["audit", "--audit-store", store_url, "--since", "last tuesday"]) == 1
    assert capsys.readouterr().err.strip().count("\n") == 0


@pytest.mark.parametrize("text, expected", [
    ("2025-06-01", "2025-06-01T00:00:00.000000Z"), ("2025-06-01T12:30:00+02:00", "2025-06-01T10:30:00.000000Z"),
    ("90m", "2025-06-01T10:30:00.000000Z"), ("2d", "2025-05-30T12:00:00.000000Z"),
])
def test_since_accepts_dates_instants_and_spans(text, expected):
    assert since_instant(text, datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)) == expected
