"""`fhir-ire serve` options become the app config that every worker process receives."""

import argparse
import json

import pytest

from fhir_ire import serve
from fhir_ire.errors import IreError


def _args(*argv):
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_options_map_to_config_keys(tmp_path):
    config = serve.config_from_args(_args(
        "--bundles", str(tmp_path), "--trust", "https://ehr.example.org=keys/jwks.json",
        "--base-url", "https://ire.example.org/", "--fhir-server", "https://fhir.example.org",
        "--jti-store", "redis://localhost:6379/0"))
    assert config["BUNDLES"] == str(tmp_path.resolve())
    assert config["TRUST"] == {"https://ehr.example.org": "keys/jwks.json"}
    assert config["BASE_URL"] == "https://ire.example.org"
    assert config["FHIR_SERVERS"] == ["https://fhir.example.org"]
    assert config["JTI_STORE"] == "redis://localhost:6379/0"
    assert json.loads(json.dumps(config)) == config  # travels to workers as JSON


def test_trust_needs_issuer_and_jwks():
    with pytest.raises(IreError, match="ISSUER=JWKS"):
        serve.config_from_args(_args("--trust", "no-separator"))
