"""The checks of Inferno's CRD server suite (../shared/tools/crd-checks/inferno_checks.py) against the real
`fhir-ire serve`, in CRD 2.0.1 and 2.2 modes, on Inferno's preset bodies, the test kit's fixtures, the IG's example
requests and our own fixtures. Every required check that fails must have a reason written here (docs/crd.md):

- `tls`: served over loopback http; TLS is the deployment's (`--certfile`, docs/operations.md).
- `request-invalid`: a check of the request body itself (a hookInstance that is not a UUID, a CRD 2.2 context
  checked as 2.0.1, draft orders of no type Inferno knows).
- `hook-13`: a 400 with an OperationOutcome because the request has no Coverage, or its payer is not one this
  service handles (CRD hook-13); Inferno's bodies are written for the reference implementation, which takes any.
- `after-refusal`: no coverage-information in a refused call.
- `ig-2.2-target`: CRD 2.2 puts an appointment's coverage-information on the ServiceRequest it is based on; the
  port (like Inferno) only looks at Appointments.
- `echoed`: a profile error in a resource the request sent and the answer echoes unchanged but for
  coverage-information (CRD resp-37).

The same preset bodies addressed to a payer of ours (the Coverage's payor by identifier, as a payer's tester runs
Inferno with its own test member) must pass every required check but request-invalid ones."""

import json
import re
import subprocess
import sys

import pytest

from fhir_ire.store import load_bundles

from ..conftest import serve_process
from .conftest import HERE, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.shared]
REQUEST_CHECKS = {"crd_service_request_required_fields_validation", "crd_service_request_context_validation"}
HOOK_13 = (["Coverage.payor"], ["prefetch.coverage"])


def addressed(src, dest, payer: dict) -> None:
    """The bodies of src with every Coverage's payor replaced by a payer this service handles, by identifier."""
    ident = payer["identifier"][0]
    for path in sorted(src.glob("*.json")):
        text = json.dumps(json.loads(path.read_text()))
        body = json.loads(text)

        def walk(v):
            if isinstance(v, dict):
                if v.get("resourceType") == "Coverage":
                    v["payor"] = [{"identifier": {"system": ident["system"], "value": ident["value"]},
                                   "display": payer["name"]}]
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(body)
        (dest / path.name).write_text(json.dumps(body))


def find(body, rtype: str, rid: str):
    if isinstance(body, dict):
        if body.get("resourceType") == rtype and body.get("id") == rid:
            return body
        body = list(body.values())
    if isinstance(body, list):
        for v in body:
            if (found := find(v, rtype, rid)) is not None:
                return found
    return None


def reason(test: dict, message: str, group: dict) -> str | None:
    """Why a required check failed, when it is one of the reasons above; None when it is not explained."""
    call = group["calls"][0] if group["calls"] else {}
    response = call.get("response") if isinstance(call.get("response"), dict) else {}
    if test["id"] in REQUEST_CHECKS:
        return "request-invalid"
    if test["id"] == "crd_service_call_test" and call.get("status") == 400 and \
            response.get("resourceType") == "OperationOutcome" and response["issue"][0].get("expression") in HOOK_13:
        return "hook-13"
    if test["id"] == "crd_coverage_info_system_action_received":
        if call.get("status") != 200:
            return "after-refusal"
        if group["hook"] == "appointment-book" and group["version"] == "2.2" and any(
                a["resource"]["resourceType"] == "ServiceRequest" for a in response.get("systemActions", [])):
            return "ig-2.2-target"
    if test["id"] == "crd_coverage_info_system_action_validation":
        m = re.search(r"\] (\w+)/([\w.-]+): \1\.(\w+(?:\[x\])?) is required", message)
        if m and (sent := find(call.get("request"), m.group(1), m.group(2))) is not None and \
                not any(k == m.group(3) or (m.group(3).endswith("[x]") and k.startswith(m.group(3)[:-3]))
                        for k in sent):
            return "echoed"
    return None


@pytest.fixture(scope="module")
def results(shared, tmp_path_factory):
    checks = shared / "tools" / "crd-checks"
    folder = tmp_path_factory.mktemp("inferno")
    payer = next(o for o in load_bundles(ROOT / "bundles").all("Organization") if o.get("identifier"))
    (folder / "addressed").mkdir()
    addressed(checks / "requests" / "inferno_preset", folder / "addressed", payer)
    sets = {"preset": checks / "requests" / "inferno_preset", "addressed": folder / "addressed",
            "fixtures": checks / "requests" / "inferno_fixtures", "ig": checks / "requests" / "ig",
            "ours": HERE / "fixtures"}
    args = ["--bundles", str(ROOT / "bundles"), "--workers", "1", "--audit-store",
            f"sqlite:///{folder / 'audit.sqlite'}"]
    with serve_process(args, folder / "serve.log") as base:
        done = subprocess.run([sys.executable, str(checks / "inferno_checks.py"), "--base", base,
                               *[f"--set={k}={v}" for k, v in sets.items()], "--json", str(folder / "out.json")],
                              capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((folder / "out.json").read_text())


def failures(results, name=None):
    """(set, mode, file, check, message, reason) of every failed required check."""
    out = [("discovery", "", "", t["id"], t["reason"], "tls" if t["id"] == "crd_server_tls_version_stu2" else None)
           for t in results["discovery"] if t["result"] == "fail"] if name is None else []
    for s in results["sets"]:
        if name not in (None, s["name"]):
            continue
        for g in s["groups"]:
            for t in g["tests"]:
                if t["optional"] or t["result"] != "fail":
                    continue
                for kind, message in t["messages"]:
                    if kind == "error":
                        out.append((s["name"], s["mode"], g["files"][0], t["id"], message, reason(t, message, g)))
    return out


def test_every_failed_required_inferno_check_has_a_reason(results):
    unexplained = [f[:5] for f in failures(results) if f[5] is None]
    assert unexplained == []


def test_inferno_preset_addressed_to_our_payer_passes_every_required_check(results):
    assert {f[5] for f in failures(results, "addressed")} <= {"request-invalid"}
    groups = [g for s in results["sets"] if s["name"] == "addressed" for g in s["groups"]]
    for g in groups:
        results_by_id = {t["id"]: t["result"] for t in g["tests"]}
        if g["hook"] in ("encounter-start", "encounter-discharge"):
            assert results_by_id["crd_service_call_test"] == "skip"  # secondary hooks this service does not offer
            continue
        assert results_by_id["crd_service_call_test"] == "pass"
        if g["hook"] in ("order-sign", "order-dispatch", "appointment-book"):
            assert results_by_id["crd_coverage_info_system_action_received"] == "pass", g["files"]
            assert results_by_id["crd_coverage_info_system_action_validation"] == "pass", g["files"]


@pytest.mark.parametrize("mode", ["as-is", "2.2"])
def test_our_fixtures_pass_the_inferno_checks_in_both_modes(results, mode):
    ours = [f for f in failures(results, "ours") if f[1] == mode]
    assert {f[5] for f in ours} <= {"request-invalid", "hook-13", "after-refusal", "ig-2.2-target"}
    passed = [t for s in results["sets"] if s["name"] == "ours" and s["mode"] == mode for g in s["groups"]
              for t in g["tests"] if t["id"] == "crd_coverage_info_system_action_validation" and t["result"] == "pass"]
    assert len(passed) >= 8  # coverage-information valid against the CRD 2.0.1 (as-is) or 2.2 profile
