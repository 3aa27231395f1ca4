"""Integration: `fhir-ire serve` as a real process on a free loopback port, called over HTTP; then the HL7
terminology ecosystem tests run against it with ../shared/tools/txrunner.py."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from ..conftest import free_port, report, serve_process

ROOT = Path(__file__).resolve().parents[2]
TXRUNNER = ROOT.parent / "shared" / "tools" / "txrunner.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Every general-mode test must pass except these, each with the reason it is left (docs/terminology.md).
KNOWN_FAILURES = {
    # the same code from two versions: the runner sorts contains by code only, so the order the server lists the
    # versions in decides; the reference order differs between overload/expand-all and this test
    "overload/expand-mixed",
}
GENERAL_TARGET = 577  # of 597 general-mode tests (97%)


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.headers.get_content_type(), json.loads(resp.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server process, with the small fixture bundles; yields its base URL."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serve_process(["--bundles", str(FIXTURES), "--workers", "1"], log, timeout=30) as base:
        yield base


@pytest.mark.integration
def test_served_over_loopback(server):
    status, ctype, body = _get(server + "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=C25.0")
    assert (status, ctype) == (200, "application/fhir+json")
    assert any(p["name"] == "display" and p["valueString"] == "Malignant neoplasm of head of pancreas"
               for p in body["parameter"])


@pytest.mark.integration
def test_broken_bundle_stops_start_up_with_one_line(tmp_path):
    (tmp_path / "bad.json").write_text("{ not json")
    run = subprocess.run([sys.executable, "-m", "fhir_ire.cli", "serve", "--bundles", str(tmp_path), "--port",
                          str(free_port())], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 1
    assert "bad.json" in run.stderr and len(run.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def tx_results(server, tmp_path_factory):
    """One txrunner run per module: suite name -> suite summary (tests with pass/fail/skip)."""
    if not TXRUNNER.is_file():
        pytest.skip("../shared/tools/txrunner.py is not beside this clone")
    summary = tmp_path_factory.mktemp("tx") / "tx.json"
    run = subprocess.run([sys.executable, str(TXRUNNER), "--server", server + "/fhir", "--json", str(summary),
                          "--timeout", "30"], capture_output=True, text=True, timeout=600)
    report("HL7 terminology ecosystem tests (../shared/tools/txrunner.py against fhir-ire serve)", run.stdout)
    assert run.returncode == 0, run.stderr
    return {s["name"]: s for s in json.loads(summary.read_text())["suites"]}


@pytest.mark.integration
@pytest.mark.shared
def test_tx_failures_are_only_the_known_ones(shared, tx_results):
    failed = {f"{name}/{t['name']}": t.get("reason", "")[:200] for name, s in tx_results.items() for t in s["tests"]
              if t["status"] == "fail"}
    assert set(failed) <= KNOWN_FAILURES, {k: v for k, v in failed.items() if k not in KNOWN_FAILURES}


@pytest.mark.integration
@pytest.mark.shared
def test_tx_general_mode_count(shared, tx_results):
    general = [t for s in tx_results.values() for t in s["tests"] if t["status"] != "skip"]
    passed = sum(t["status"] == "pass" for t in general)
    assert passed >= GENERAL_TARGET, f"general mode {passed}/{len(general)} < {GENERAL_TARGET}"
