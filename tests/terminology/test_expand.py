"""$expand as a plain function: compose rules, hierarchy, paging, text filter, implicit value sets, limits."""

import time

import pytest

from fhir_ire.errors import InvalidRequest, NotFound, TooCostly
from fhir_ire.terminology.compose import safe_regex
from fhir_ire.terminology.expand import expand
from fhir_ire.terminology.valuesets import resolve_valueset
from fhir_ire.terminology.outcome import TxError
from tests.terminology.conftest import params


def _expand(scope, **values):
    p = params(**values)
    return expand(scope, resolve_valueset(scope, p), p)


def _codes(contains):
    out = []
    for item in contains or []:
        out.append(item["code"])
        out += _codes(item.get("contains"))
    return out


def test_enumerated_value_set_in_listed_order(scope):
    exp = _expand(scope, url="http://example.org/vs/ire-procedures")["expansion"]
    assert [c["code"] for c in exp["contains"]] == ["0600T", "0601T"]
    assert exp["total"] == 2


def test_fragment_expansion_is_marked_unclosed(scope):
    exp = _expand(scope, url="http://example.org/vs/ire-procedures")["expansion"]
    names = [p["name"] for p in exp["parameter"]]
    assert "used-fragment" in names
    assert exp["extension"][0]["url"].endswith("valueset-unclosed")


def test_is_a_value_set_keeps_hierarchy(scope):
    contains = _expand(scope, url="http://example.org/vs/warm")["expansion"]["contains"]
    assert [c["code"] for c in contains] == ["warm"]
    assert [c["code"] for c in contains[0]["contains"]] == ["red", "orange"]


def test_exclude_nested_gives_a_flat_list(scope):
    contains = _expand(scope, url="http://example.org/vs/warm", excludeNested="true")["expansion"]["contains"]
    assert [c["code"] for c in contains] == ["warm", "red", "orange"]


def test_active_only_drops_retired_concepts(scope):
    contains = _expand(scope, url="http://example.org/vs/warm", activeOnly="true")["expansion"]["contains"]
    assert "orange" not in _codes(contains)


def test_text_filter(scope):
    exp = _expand(scope, url="http://example.org/cs/colors?fhir_vs", filter="blu")["expansion"]
    assert _codes(exp["contains"]) == ["blue"]


def test_icd10cm_implicit_value_set_pages(scope):
    exp = _expand(scope, url="http://hl7.org/fhir/sid/icd-10-cm?fhir_vs", count="5", offset="10")["expansion"]
    assert len(exp["contains"]) == 5 and exp["offset"] == 10 and exp["total"] > 70000


def test_icd10cm_isa_implicit_value_set(scope):
    exp = _expand(scope, url="http://hl7.org/fhir/sid/icd-10-cm?fhir_vs=isa/C25")["expansion"]
    assert "C25.0" in _codes(exp["contains"]) and "C22.0" not in _codes(exp["contains"])


def test_huge_expansion_without_count_is_too_costly(scope):
    with pytest.raises(TooCostly, match="count"):
        _expand(scope, url="http://hl7.org/fhir/sid/icd-10-cm?fhir_vs")


def test_negative_count_is_invalid(scope):
    with pytest.raises(InvalidRequest, match="count"):
        _expand(scope, url="http://example.org/vs/warm", count="-1")


def test_unknown_value_set_is_not_found(scope):
    with pytest.raises(NotFound, match="could not be found"):
        _expand(scope, url="http://example.org/vs/none")


def test_filter_without_value_is_a_broken_value_set(registry):
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/broken", "status": "draft", "compose": {
        "include": [{"system": "http://example.org/cs/colors", "filter": [{"property": "concept", "op": "is-a"}]}]}}
    scope = registry.scope([vs])
    with pytest.raises(TxError, match="has no value"):
        _expand(scope, url="http://example.org/vs/broken")


@pytest.mark.parametrize("pattern", ["(a|a)*", "(a+)+", "((a+)+)+", "(a*)*b"], ids=["alternation", "nested-plus",
                                                                          "doubly-nested", "star-star"])
def test_catastrophic_patterns_run_in_linear_time(pattern):
    started = time.perf_counter()
    assert safe_regex(pattern).fullmatch("a" * 5000 + "!") is None
    assert time.perf_counter() - started < 5, "hang guard: a backtracking engine would take years here"


def test_regex_that_re2_cannot_run_is_a_broken_value_set():
    with pytest.raises(TxError, match="not valid or not supported") as err:
        safe_regex(r"(a)\1")
    assert err.value.tx_issue_type == "vs-invalid"
