"""`fhir-ire serve` with a rule whose FHIRPath does not compile stops at start with one line naming the
PlanDefinition, the action and the expression, with or without preloading: never a rule left out and met at
request time."""

import json
import subprocess
import sys

import pytest

from ..conftest import ROOT, free_port

pytestmark = pytest.mark.integration
BUNDLE = ROOT / "bundles" / "03-coverage.json"
BROKEN = " and %orderCodes.exists("


@pytest.mark.parametrize("preload", ["true", "false"])
def test_serve_stops_at_start_with_one_line_naming_the_rule_and_expression(tmp_path, preload):
    bundle = json.loads(BUNDLE.read_text())
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "PlanDefinition"
                and any(a.get("condition") for a in e["resource"].get("action") or []))
    action = next(a for a in plan["action"] if a.get("condition"))
    action["condition"][-1]["expression"]["expression"] += BROKEN
    (tmp_path / BUNDLE.name).write_text(json.dumps(bundle))
    run = subprocess.run([sys.executable, "-m", "fhir_ire.cli", "serve", "--bundles", str(tmp_path), "--port",
                          str(free_port()), "--preload", preload], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"fhir-ire serve: error: PlanDefinition/{plan['id']} action {action['id']}: "
                                 "the FHIRPath expression '")
    assert f"{BROKEN}' does not compile: not valid FHIRPath at 1:" in run.stderr
