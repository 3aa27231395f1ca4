"""`fhir-ire build` records its as-of date in the bundles; `--check` rebuilds with the recorded date, so a committed
build does not go stale with the calendar."""

import json

from fhir_ire.build.command import recorded_as_of
from fhir_ire.cli import main

from ..build.conftest import SEEDS


def test_the_as_of_date_is_recorded_in_every_bundle(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--seeds", str(SEEDS), "--out", str(out), "--as-of", "2023-03-01"]) == 0
    stamps = {json.loads(p.read_text()).get("timestamp") for p in out.glob("0*.json")}
    assert stamps == {"2023-03-01T00:00:00Z"}
    assert str(recorded_as_of(out)) == "2023-03-01"


def test_check_uses_the_recorded_date(tmp_path, capsys):
    """Built as of 2023 (payments from 2022 are not stale then); checked today without --as-of: still up to date."""
    out = tmp_path / "out"
    assert main(["build", "--seeds", str(SEEDS), "--out", str(out), "--as-of", "2023-03-01"]) == 0
    outcome = (out / "qa-outcome.json").read_text()
    assert "payment-stale" not in outcome
    assert main(["build", "--seeds", str(SEEDS), "--out", str(out), "--check"]) == 0
    assert main(["build", "--seeds", str(SEEDS), "--out", str(out), "--check", "--as-of", "2026-01-15"]) == 1
