"""Code system versions and display languages in validate-code, and cyclic value set imports."""

import pytest

from fhir_ire.terminology.languages import check_display, parse_languages, pick_display
from fhir_ire.terminology.outcome import TxError
from fhir_ire.terminology.registry import is_version_match
from fhir_ire.terminology.validate import validate_code
from fhir_ire.terminology.valuesets import check_imports
from tests.terminology.conftest import params

SYSTEM = "http://example.org/cs/versioned"


def _cs(version, display):
    return {"resourceType": "CodeSystem", "url": SYSTEM, "version": version, "status": "active", "content": "complete",
            "concept": [{"code": "a", "display": display}]}


def _vs(url, include_version=None):
    include = {"system": SYSTEM, **({"version": include_version} if include_version else {})}
    return {"resourceType": "ValueSet", "url": url, "status": "active", "compose": {"include": [include]}}


@pytest.fixture
def versioned(registry):
    return registry.scope([_cs("1.0.0", "A one"), _cs("2.0.0", "A two"), _vs("http://example.org/vs/v1", "1.0.0"),
                           _vs("http://example.org/vs/any")])


def _get(result, name):
    return next((v for p in result["parameter"] if p["name"] == name
                 for k, v in p.items() if k.startswith("value") or k == "resource"), None)


def _message_ids(result):
    return [e["valueString"] for i in (_get(result, "issues") or {}).get("issue", []) for e in i.get("extension", [])]


@pytest.mark.parametrize("pattern, version, ok", [("1.x.x", "1.2.0", True), ("1.0.x", "1.2.0", False),
                                                  ("1.0.0", "1.0.0", False), ("1", "1.0.0", False)],
                         ids=["wildcard", "other-minor", "exact-is-not-a-pattern", "prefix"])
def test_version_wildcards(pattern, version, ok):
    assert is_version_match(pattern, version) is ok


def test_value_set_pin_chooses_the_version(versioned):
    result = validate_code(versioned, params(url="http://example.org/vs/v1", system=SYSTEM, code="a"), "ValueSet")
    assert (_get(result, "result"), _get(result, "version"), _get(result, "display")) == (True, "1.0.0", "A one")


def test_unpinned_include_means_the_latest(versioned):
    result = validate_code(versioned, params(url="http://example.org/vs/any", system=SYSTEM, code="a"), "ValueSet")
    assert _get(result, "version") == "2.0.0"


def test_coding_version_against_a_different_pin_is_a_mismatch(versioned):
    result = validate_code(versioned, params(url="http://example.org/vs/v1",
                                             coding={"system": SYSTEM, "code": "a", "version": "2.0.0"}), "ValueSet")
    assert _get(result, "result") is False
    assert "VALUESET_VALUE_MISMATCH" in _message_ids(result)


def test_unknown_version_names_the_known_ones(versioned):
    result = validate_code(versioned, params(url=SYSTEM, code="a", version="3.0.0"), "CodeSystem")
    assert _get(result, "result") is False
    assert "Valid versions: 1.0.0 or 2.0.0" in _get(result, "message")
    assert _get(result, "x-caused-by-unknown-system") == f"{SYSTEM}|3.0.0"


def test_force_system_version_overrides_the_pin(versioned):
    result = validate_code(versioned, params(**{"url": "http://example.org/vs/v1", "system": SYSTEM, "code": "a",
                                                "force-system-version": f"{SYSTEM}|2.0.0"}), "ValueSet")
    assert (_get(result, "result"), _get(result, "version")) == (True, "2.0.0")


def test_check_system_version_refuses_other_versions(versioned):
    result = validate_code(versioned, params(**{"url": "http://example.org/vs/v1", "system": SYSTEM, "code": "a",
                                                "check-system-version": f"{SYSTEM}|2.x.x"}), "ValueSet")
    assert "VALUESET_VERSION_CHECK" in _message_ids(result)


def test_cyclic_imports_are_refused(registry):
    one = {"resourceType": "ValueSet", "url": "http://example.org/vs/one", "status": "active",
           "compose": {"include": [{"valueSet": ["http://example.org/vs/two"]}]}}
    two = {"resourceType": "ValueSet", "url": "http://example.org/vs/two", "status": "active",
           "compose": {"exclude": [{"valueSet": ["http://example.org/vs/one"]}]}}
    with pytest.raises(TxError, match="Cyclic reference"):
        check_imports(registry.scope([one, two]), one)


def test_parse_languages_drops_weights():
    assert parse_languages("de, en;q=0.8, *") == ["de", "en", "*"]


def test_display_in_the_wanted_language(registry):
    cs = registry.scope().codesystem("http://example.org/cs/colors")
    red = cs.get("red")
    assert pick_display(cs, red, ["de"]) == "Rot"
    assert check_display(cs, red, "Rot", ["de"]) is None
    severity, tx_type, message_id, text = check_display(cs, red, "Rouge", [])
    assert (severity, tx_type, message_id) == ("error", "invalid-display", "Display_Name_for__should_be_one_of__instead_of")
    assert "one of 2 choices" in text
