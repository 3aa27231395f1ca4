"""Generated requests for every route of /openapi.json (schema-conforming and schema-violating: wrong types,
missing fields, odd strings), sent to the real server: never a 5xx, never HTML (except the pages under /ui),
always an answer within the time budget. Deterministic in CI; FUZZ_RANDOM=1 explores new inputs,
FUZZ_EXAMPLES sets the count per operation, FUZZ_COVERAGE=1 adds schemathesis' coverage phase,
FUZZ_REPORT=path appends the status counts as a JSON line."""

import json
import os
import time
from collections import Counter

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("fuzz") / "serve.log"
    with serve_process(["--bundles", str(ROOT / "bundles"), "--workers", "1", "--time-budget", str(BUDGET)], log) as base:
        yield base
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
def test_generated_requests_get_a_json_answer_in_time(case, server):
    started = time.monotonic()
    response = case.call(base_url=server, timeout=BUDGET + 10)
    elapsed = time.monotonic() - started
    COUNTS[response.status_code] += 1
    what = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, what
    assert elapsed < BUDGET + 1, f"{what} took {elapsed:.1f} s"
    if case.path.startswith("/ui"):  # the pages answer HTML, their errors too
        assert content_type(response) in ("text/html", "application/json") or case.method == "HEAD", what
    elif case.method != "HEAD" and case.path != "/static/{filename}" or response.status_code >= 400:
        assert content_type(response) in ("application/json", "application/fhir+json"), what
        json.loads(response.content)
