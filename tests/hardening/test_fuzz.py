"""Generated requests for every route of /openapi.json (schema-conforming and schema-violating: wrong types,
missing fields, odd strings), sent to the real server: never a 5xx, never HTML (except the pages under /ui),
never more work than the time budget. Deterministic in CI; FUZZ_RANDOM=1 explores new inputs,
FUZZ_EXAMPLES sets the count per operation, FUZZ_COVERAGE=1 adds schemathesis' coverage phase,
FUZZ_REPORT=path appends the status counts as a JSON line.

The budget is checked on the server's CPU time per request, not on the client's clock: the suite runs niced
(CPU discipline), so on a machine where a benchmark runs at normal priority the server gets a sliver of the CPU
(nice 19 against 0 weighs 15 to 1,024), and a request of a few ms of CPU can take seconds by the clock: the likely
cause of the test's two failures in full runs at load 17-25 (not reproduced; alone, niced at load 12-20, the slowest
of its 2,830 requests took 1.0 s by the clock and 6 ms of CPU in process)."""

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from fhir_ire.data import load as load_data
from fhir_ire.web.openapi import describe
from tests.conftest import ROOT, serve_process

pytestmark = pytest.mark.integration
BUDGET = 5.0
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))
SCHEMA = schemathesis.openapi.from_dict(describe(load_data("crd/services.json")["services"]))
# the coverage phase (every boundary case of every schema, ~7,000 requests) runs when asked: too long for each CI run
SCHEMA.config.phases.coverage.enabled = bool(os.environ.get("FUZZ_COVERAGE"))
COUNTS: Counter = Counter()


def server_processes(base: str) -> list[int]:
    """The server's processes (main and worker): those started with its port."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    flag = f"--port {base.rsplit(':', 1)[1]} "
    return [int(line.split()[0]) for line in out.splitlines() if "fhir_ire.cli serve" in line and flag in line + " "]


def cpu_seconds(pids: list[int]) -> float | None:
    """User and system CPU time of the processes so far, every thread included (None without /proc)."""
    try:
        fields = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split() for pid in pids]
    except OSError:
        return None
    return sum(int(f[11]) + int(f[12]) for f in fields) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("fuzz") / "serve.log"
    with serve_process(["--bundles", str(ROOT / "bundles"), "--workers", "1", "--time-budget", str(BUDGET)], log,
                       timeout=300) as base:
        yield base, server_processes(base)
    report = os.environ.get("FUZZ_REPORT")
    if report:
        with open(report, "a") as f:
            f.write(json.dumps({"requests": sum(COUNTS.values()), "statuses": dict(sorted(COUNTS.items()))}) + "\n")
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def content_type(response) -> str:
    value = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    return (value[0] if isinstance(value, list) else value).split(";")[0].strip()


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
          derandomize=not os.environ.get("FUZZ_RANDOM"))
def test_generated_requests_get_a_json_answer_within_the_budget(case, server):
    base, pids = server
    before = cpu_seconds(pids)
    response = case.call(base_url=base, timeout=120)  # no answer at all (a hang) fails here
    spent = cpu_seconds(pids) - before if before is not None else 0.0
    COUNTS[response.status_code] += 1
    what = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, what
    assert spent < BUDGET + 1, f"{what} cost the server {spent:.1f} s of CPU"
    if case.path.startswith("/ui"):  # the pages answer HTML, their errors too
        assert content_type(response) in ("text/html", "application/json") or case.method == "HEAD", what
    elif case.method != "HEAD" and case.path != "/static/{filename}" or response.status_code >= 400:
        assert content_type(response) in ("application/json", "application/fhir+json"), what
        json.loads(response.content)
