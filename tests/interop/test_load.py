"""`fhir-ire load` against a small FHIR server on loopback: idempotence, retries, timeouts, errors, 413 splitting."""

import json
import shutil
import socket
from pathlib import Path

import pytest

from fhir_ire.cli import main
from fhir_ire.errors import LoadError
from fhir_ire.interop.client import FhirClient, outcome_text
from fhir_ire.interop.loader import Loader, read_bundle_files, same
from tests.interop.fakefhir import FakeFhir, outcome

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bundles"
FIXTURE_COUNT = 8  # resources in the three fixture bundles


@pytest.fixture
def fake():
    server = FakeFhir().start()
    yield server
    server.stop()


@pytest.fixture
def bundles(tmp_path) -> Path:
    folder = tmp_path / "bundles"
    shutil.copytree(FIXTURES, folder)
    return folder


def load(capsys, fake, bundles, *extra) -> tuple[int, str, str]:
    code = main(["load", "--server", fake.base, "--bundles", str(bundles), "--backoff", "0", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def expected_store() -> dict[str, dict]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
            for bf in read_bundle_files(FIXTURES) for e in bf.entries}


def total_line(out: str) -> list[int]:
    line = next(x for x in out.splitlines() if x.startswith("total"))
    return [int(n) for n in line.split()[1:]]  # created, updated, unchanged, failed


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_load_puts_every_resource_by_id(capsys, fake, bundles):
    code, out, err = load(capsys, fake, bundles)
    assert (code, err) == (0, "")
    assert set(fake.store) == set(expected_store())
    for key, resource in expected_store().items():
        assert same(resource, fake.store[key]), key
    assert total_line(out) == [FIXTURE_COUNT, 0, 0, 0]
    assert "01-terminology.json: 4 resources, 4 created, 0 updated, 0 unchanged, 0 failed" in out
    assert "ConceptMap" in out and "qa-outcome" not in out


def test_second_load_sends_nothing_and_reports_unchanged(capsys, fake, bundles):
    load(capsys, fake, bundles)
    before = json.dumps(fake.store, sort_keys=True)
    transactions = fake.count("transaction")
    code, out, _ = load(capsys, fake, bundles)
    assert code == 0
    assert total_line(out) == [0, 0, FIXTURE_COUNT, 0]
    assert fake.count("transaction") == transactions
    assert json.dumps(fake.store, sort_keys=True) == before


def test_a_changed_resource_is_updated_and_only_it_is_sent(capsys, fake, bundles):
    load(capsys, fake, bundles)
    path = bundles / "02-coverage.json"
    data = json.loads(path.read_text())
    data["entry"][0]["resource"]["name"] = "Fixture Health Plan of Somewhere"
    path.write_text(json.dumps(data))
    code, out, _ = load(capsys, fake, bundles)
    assert code == 0
    assert total_line(out) == [0, 1, FIXTURE_COUNT - 1, 0]
    assert fake.store["Organization/payer-fixture"]["name"] == "Fixture Health Plan of Somewhere"
    assert fake.store["Organization/payer-fixture"]["meta"]["versionId"] == "2"
    assert fake.store["PlanDefinition/coverage-0600t-fixture"]["meta"]["versionId"] == "1"


def test_token_is_sent_as_bearer(capsys, fake, bundles):
    code, _, _ = load(capsys, fake, bundles, "--token", "s3cret")
    assert code == 0
    assert {h.get("Authorization") for _, _, h in fake.log} == {"Bearer s3cret"}


def test_token_from_environment(capsys, fake, bundles, monkeypatch):
    monkeypatch.setenv("FHIR_IRE_TOKEN", "from-env")
    load(capsys, fake, bundles)
    assert {h.get("Authorization") for _, _, h in fake.log} == {"Bearer from-env"}


def test_429_is_retried_and_the_load_completes(capsys, fake, bundles):
    fake.fail("transaction", 429, outcome("slow down", "throttled"), {"Retry-After": "0"}, times=2)
    code, out, err = load(capsys, fake, bundles)
    assert (code, err) == (0, "")
    assert total_line(out) == [FIXTURE_COUNT, 0, 0, 0]
    assert "2 retried" in out
    assert fake.count("transaction") == 3 + 2


def test_503_then_success_is_retried(capsys, fake, bundles):
    fake.fail("read", 503, "<html>Service Unavailable</html>")
    fake.fail("transaction", 502, "<html>Bad Gateway</html>")
    code, out, _ = load(capsys, fake, bundles)
    assert code == 0 and set(fake.store) == set(expected_store())


def test_503_that_persists_gives_one_line_error(capsys, fake, bundles):
    fake.fail("transaction", 503, outcome("database is restarting", "transient"), times=10)
    code, out, err = load(capsys, fake, bundles, "--retries", "2")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("fhir-ire load: error: 01-terminology.json: POST ")
    assert "HTTP 503: database is restarting (after 3 attempts)" in err
    assert fake.count("transaction") == 3
    assert total_line(out) == [0, 0, 0, 4]  # the summary is printed, the failed entries counted


def test_retry_after_is_honoured():
    fake = FakeFhir().start()
    try:
        fake.fail("metadata", 429, outcome("throttled"), {"Retry-After": "7"})
        fake.fail("metadata", 503, outcome("busy"))
        slept = []
        client = FhirClient(fake.base, retries=3, backoff=0.5, sleep=slept.append)
        client.capabilities()
    finally:
        fake.stop()
    assert slept[0] == 7  # Retry-After wins
    assert 0.5 <= slept[1] <= 1.0  # then exponential back-off with jitter: 0.5 * 2**1 * [0.5, 1]


def test_operation_outcome_refusal_gives_diagnostics_and_stops(capsys, fake, bundles):
    fake.refuse["PlanDefinition/coverage-0600t-fixture"] = "PlanDefinition.action[0]: unknown trigger type"
    code, out, err = load(capsys, fake, bundles)
    assert code == 1
    assert err == ("fhir-ire load: error: 02-coverage.json: POST " + fake.base
                   + ": HTTP 422: PlanDefinition.action[0]: unknown trigger type\n")
    assert "Provenance/prov-fixture" not in fake.store  # later bundles may refer to the refused one
    assert total_line(out) == [4, 0, 0, 3]


def test_refused_entry_in_a_transaction_response_is_reported(capsys, fake, bundles, monkeypatch):
    answer = fake.answer

    def one_entry_refused(kind, body):
        status, data, headers = answer(kind, body)
        if kind == "transaction" and len(data["entry"]) == 3:
            data["entry"][1]["response"] = {"status": "400", "outcome": outcome("Missing required property",
                                                                                "structure")}
        return status, data, headers

    monkeypatch.setattr(fake, "answer", one_entry_refused)
    code, out, err = load(capsys, fake, bundles)
    assert code == 1
    assert "the server refused PlanDefinition/coverage-0600t-fixture: HTTP 400: Missing required property" in err
    assert total_line(out) == [6, 0, 0, 1]


def test_unreachable_server_gives_one_line_error(capsys, bundles):
    url = f"http://127.0.0.1:{closed_port()}/fhir"
    code = main(["load", "--server", url, "--bundles", str(bundles), "--retries", "1", "--backoff", "0"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err == f"fhir-ire load: error: GET {url}/metadata: cannot connect: connection refused (after 2 attempts)\n"


def test_slow_server_times_out_then_retry_succeeds(capsys, fake, bundles):
    fake.fail("transaction", 200, {"resourceType": "Bundle"}, delay=2.0)
    code, out, _ = load(capsys, fake, bundles, "--timeout", "0.5")
    assert code == 0
    assert "1 retried" in out and set(fake.store) == set(expected_store())


def test_server_that_never_answers_in_time(capsys, fake, bundles):
    fake.fail("metadata", 200, {}, delay=2.0, times=2)
    code, _, err = load(capsys, fake, bundles, "--timeout", "0.3", "--retries", "1")
    assert code == 1
    assert err == f"fhir-ire load: error: GET {fake.base}/metadata: no answer within 0.3 s (after 2 attempts)\n"


def test_413_splits_batches_until_they_fit(capsys, fake, bundles):
    fake.max_body = 2500  # bytes: the ConceptMap and CodeSystem alone fit, the whole terminology bundle does not
    code, out, err = load(capsys, fake, bundles)
    assert (code, err) == (0, "")
    assert set(fake.store) == set(expected_store())
    assert "request too large, splitting 4 entries into 2 + 2" in out
    sizes = [size for kind, size, _ in fake.log if kind == "transaction"]
    assert max(sizes) > 2500 and len([s for s in sizes if s <= 2500]) >= 4  # refused once, then halves


def test_a_resource_too_large_on_its_own_is_an_error(capsys, fake, bundles):
    fake.max_body = 300
    code, _, err = load(capsys, fake, bundles)
    assert code == 1
    assert "alone is too large for this server" in err and err.count("\n") == 1


def test_batch_size_sets_entries_per_request(capsys, fake, bundles):
    code, _, _ = load(capsys, fake, bundles, "--batch-size", "2")
    assert code == 0
    assert fake.count("transaction") == 2 + 2 + 1  # 4, 3 and 1 resources


def test_server_without_batch_reads_still_gets_everything(capsys, fake, bundles):
    fake.batch_reads = False
    code, out, _ = load(capsys, fake, bundles)
    assert code == 0 and set(fake.store) == set(expected_store())
    assert "no batch reads on this server" in out
    assert fake.count("read") == 1  # asked once, then not again


def test_broken_bundle_file_sends_nothing(capsys, fake, bundles):
    (bundles / "02-coverage.json").write_text('{"resourceType": "Bundle", "entry": [')
    code, _, err = load(capsys, fake, bundles)
    assert code == 1
    assert err.startswith("fhir-ire load: error: ") and "02-coverage.json: not valid JSON" in err
    assert err.count("\n") == 1
    assert fake.log == []


def test_missing_bundle_folder(capsys, fake, tmp_path):
    code, _, err = load(capsys, fake, tmp_path / "nope")
    assert code == 1 and err.endswith("nope: bundle folder not found\n")


def test_folder_without_bundles(capsys, fake, tmp_path):
    (tmp_path / "qa-outcome.json").write_text(json.dumps(outcome("x")))
    code, _, err = load(capsys, fake, tmp_path)
    assert code == 1 and "no FHIR Bundle files" in err


def test_non_r4_server_is_refused(capsys, fake, bundles):
    fake.fhir_version = "5.0.0"
    code, _, err = load(capsys, fake, bundles)
    assert code == 1 and "speaks FHIR 5.0.0; these bundles are FHIR R4" in err
    assert fake.count("transaction") == 0


def test_unauthorized_is_not_retried(capsys, fake, bundles):
    fake.fail("metadata", 401, outcome("token expired", "login"), times=5)
    code, _, err = load(capsys, fake, bundles)
    assert code == 1 and err.endswith("HTTP 401: token expired (check --token)\n")
    assert fake.count("metadata") == 1


def test_not_a_url(capsys, bundles):
    code = main(["load", "--server", "localhost:8080/fhir", "--bundles", str(bundles)])
    assert code == 1 and "is not an http(s) URL" in capsys.readouterr().err


def test_redirect_is_an_error_not_a_silent_get(capsys, fake, bundles):
    fake.fail("metadata", 301, "", {"Location": "https://elsewhere/fhir/metadata"})
    code, _, err = load(capsys, fake, bundles)
    assert code == 1 and "redirects to https://elsewhere/fhir/metadata" in err


@pytest.mark.parametrize("body, text", [
    (outcome("first"), "first"),
    ({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "structure", "details": {"text": "Missing required property"},
         "expression": ["CodeSystem.status"]},
        {"severity": "error", "code": "invalid", "diagnostics": "bad\ndate"}]},
     "Missing required property (CodeSystem.status); bad date"),
    ("<html>\n<body>Bad   Gateway</body></html>", "<html> <body>Bad Gateway</body></html>"),
    ("", "empty body"),
], ids=["diagnostics", "details-expression-two-issues", "html", "empty"])
def test_outcome_text_is_one_line(body, text):
    assert outcome_text(body) == text


def test_same_ignores_server_meta_but_not_ours():
    ours = {"resourceType": "ValueSet", "id": "a", "meta": {"profile": ["p"]}, "status": "active"}
    theirs = {**ours, "meta": {"profile": ["p"], "versionId": "9", "lastUpdated": "2026-01-01"}}
    assert same(ours, theirs)
    assert not same(ours, {**theirs, "meta": {"versionId": "9"}})
    assert not same(ours, {**theirs, "status": "draft"})
    assert not same(ours, None)


def test_batch_size_below_one_is_refused():
    with pytest.raises(LoadError, match="--batch-size must be at least 1"):
        Loader(FhirClient("http://127.0.0.1:1/fhir"), batch_size=0)


def test_bundle_type_batch_for_servers_without_transactions(capsys, fake, bundles):
    code, _, _ = load(capsys, fake, bundles, "--bundle-type", "batch")
    assert code == 0 and set(fake.store) == set(expected_store())
    assert fake.bundle_types == ["batch"] * 3


def test_skip_leaves_out_a_type_or_one_resource(capsys, fake, bundles):
    code, out, _ = load(capsys, fake, bundles, "--skip", "CodeSystem/nucc-fixture", "--skip", "Provenance")
    assert code == 0
    assert "leaving out 2 resources (--skip)" in out
    assert set(fake.store) == set(expected_store()) - {"CodeSystem/nucc-fixture", "Provenance/prov-fixture"}
    assert total_line(out) == [FIXTURE_COUNT - 2, 0, 0, 0]


def test_the_same_resource_twice_is_refused_before_sending(capsys, fake, bundles):
    data = json.loads((bundles / "02-coverage.json").read_text())
    data["entry"].append(json.loads((bundles / "01-terminology.json").read_text())["entry"][3])
    (bundles / "02-coverage.json").write_text(json.dumps(data))
    code, _, err = load(capsys, fake, bundles)
    assert code == 1
    assert err.endswith("02-coverage.json: ConceptMap/cpt-to-icd10cm-fixture is also in 01-terminology.json\n")
    assert fake.log == []


def test_skip_that_matches_nothing_is_an_error(capsys, fake, bundles):
    code, _, err = load(capsys, fake, bundles, "--skip", "CodeSystem/nucc")
    assert code == 1 and err.endswith("--skip CodeSystem/nucc: no such resource in the bundles\n")
    assert fake.log == []


@pytest.mark.parametrize("option", [["--timeout", "0"], ["--retries", "-1"], ["--backoff", "-2"],
                                    ["--batch-size", "0"]], ids=lambda o: o[0])
def test_bad_numbers_are_one_line_errors(capsys, fake, bundles, option):
    code, _, err = load(capsys, fake, bundles, *option)
    assert code == 1 and err.startswith("fhir-ire load: error: ") and err.count("\n") == 1


@pytest.mark.parametrize("answer, message", [
    ({"resourceType": "Bundle", "entry": [1, 2]}, "the answer Bundle has malformed entries"),
    ({"resourceType": "Bundle", "entry": []}, "4 entries sent, 0 answered"),
    ({"resourceType": "Patient"}, "expected a Bundle in answer, got Patient"),
    ("<html>login</html>", "HTTP 200 but the answer is not JSON: <html>login</html>"),
], ids=["entries", "count", "type", "html"])
def test_strange_answers_are_one_line_errors(capsys, fake, bundles, answer, message):
    fake.fail("transaction", 200, answer)
    code, _, err = load(capsys, fake, bundles)
    assert code == 1 and err.endswith(message + "\n") and err.count("\n") == 1
