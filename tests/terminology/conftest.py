"""Terminology fixtures: a small bundle index, its registry, a request scope, and a Flask test client."""

from pathlib import Path

import pytest

from fhir_ire.app import create_app
from fhir_ire.store import load_bundles
from fhir_ire.terminology.params import Params
from fhir_ire.terminology.registry import Registry

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def index():
    return load_bundles(FIXTURES)


@pytest.fixture(scope="session")
def registry(index):
    return Registry(index)


@pytest.fixture
def scope(registry):
    return registry.scope()


@pytest.fixture(scope="session")
def client(index):
    return create_app({"INDEX": index}).test_client()


def params(**values) -> Params:
    """Params from keyword arguments; lists become repeated parameters."""
    items = []
    for name, value in values.items():
        for v in value if isinstance(value, list) else [value]:
            items.append((name.replace("_", "-") if name.startswith("tx_") else name, v))
    return Params(items)
