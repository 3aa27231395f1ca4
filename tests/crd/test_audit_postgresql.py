"""The audit store in a real PostgreSQL (a throwaway cluster the test starts): the same records as with SQLite,
retention, and `fhir-ire serve --audit-store postgresql://...` with two workers writing to it."""

import json
import subprocess
import sys

import pytest
import requests

from fhir_ire.crd.audit import AuditStore

from ..conftest import serve_process
from ..postgres import throwaway_cluster
from .conftest import ROOT, coverage, fixture, request, service_request
from .test_audit import app_with, calls_and_feedback, check_kept, with_token

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_url():
    with throwaway_cluster() as url:
        yield url


def test_found_37_calls_answers_and_feedback_are_kept_in_postgresql(pg_url):
    body = with_token(fixture("order-sign-not-covered"))
    response = calls_and_feedback(app_with(pg_url), body)
    check_kept(AuditStore(pg_url), body, response)


def test_found_11_retention_in_postgresql(pg_url):
    from datetime import datetime, timedelta, timezone
    store = AuditStore(pg_url, retention_days=1)
    store.record_call(service="s", hook="order-sign", hook_instance="retention-probe", client=None, status=200,
                      payer=None, orders=[], request={}, response={})
    assert store.entries(hook_instance="retention-probe")
    store.purge(datetime.now(timezone.utc) + timedelta(days=2))
    assert store.entries(hook_instance="retention-probe") == []


def test_serve_with_two_workers_keeps_every_call_in_postgresql(pg_url, tmp_path):
    args = ["--bundles", str(ROOT / "bundles"), "--workers", "2", "--audit-store", pg_url]
    instances = [f"5f0c2a4e-0000-4000-8000-{n:012d}" for n in range(8)]
    with serve_process(args, tmp_path / "serve.log") as base:
        for instance in instances:
            body = request(orders=[service_request("sr-1", "0600T")], cov=coverage("Medicare"))
            body["hookInstance"] = instance
            assert requests.post(f"{base}/cds-services/order-sign-crd", json=body, timeout=10).status_code == 200
    out = subprocess.run([sys.executable, "-m", "fhir_ire.cli", "audit", "--audit-store", pg_url, "--since", "1h"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    kept = [json.loads(line) for line in out.stdout.splitlines()]
    assert set(instances) <= {e["hook_instance"] for e in kept}
    assert all(e["payer"] == "medicare" for e in kept if e["hook_instance"] in instances)


def test_serve_refuses_an_unreachable_postgresql_with_one_line(tmp_path):
    from ..conftest import free_port
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    done = subprocess.run([sys.executable, "-m", "fhir_ire.cli", "serve", "--bundles", str(ROOT / "bundles"),
                           "--port", str(free_port()), "--audit-store", url], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "audit store" in done.stderr
