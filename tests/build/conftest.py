"""Fixtures for the build tests: the seeds, a small NUCC sample, and one build of the seeds shared by the tests."""

from datetime import date
from pathlib import Path

import pytest

from fhir_ire.build.command import output_files
from fhir_ire.sources import read_source

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent / "seeds"
AS_OF = date(2026, 1, 15)


@pytest.fixture(scope="session")
def seeds() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def nucc_sample() -> Path:
    return HERE / "fixtures" / "nucc-sample.csv"


@pytest.fixture(scope="session")
def seed_build(nucc_sample):
    """(files, documents, findings) of the seeds built with the NUCC sample."""
    return output_files(SEEDS, nucc_sample, as_of=AS_OF)


@pytest.fixture(scope="session")
def seed_resources(seed_build):
    files = seed_build[0]
    return [e["resource"] for name, b in sorted(files.items()) if name.endswith(".json") and "/" not in name
            and b.get("resourceType") == "Bundle" for e in b["entry"]]


def read_seed(prefix: str):
    return read_source(next(SEEDS.glob(prefix + "*")))


def facts_of(doc, kind: str):
    return [f for f in doc.facts if f.kind == kind]
