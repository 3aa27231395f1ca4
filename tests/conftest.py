"""Shared fixtures: paths to the project, its seeds and bundles, and ../shared when it is beside the clone."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this clone (full NUCC CSV, FHIR schema, tx-tests run in CI)")
    return SHARED


@pytest.fixture(scope="session")
def nucc_csv(shared) -> Path:
    return shared / "reference" / "nucc_taxonomy_251.csv"


@pytest.fixture(scope="session")
def fhir_schema_path(shared) -> Path:
    return shared / "reference" / "fhir.schema.r4.json"
