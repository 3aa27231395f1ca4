"""The word index: text search over large code systems, the same rule for small ones, and paged expansions."""

import pytest

from fhir_ire.errors import TooCostly
from fhir_ire.terminology.expand import expand
from fhir_ire.terminology.paging import search
from fhir_ire.limits import Limits
from fhir_ire.terminology.registry import Registry
from fhir_ire.terminology.textindex import TextIndex, has_words, query_words
from fhir_ire.terminology.valuesets import resolve_valueset
from tests.terminology.conftest import params

ICD_ALL = "http://hl7.org/fhir/sid/icd-10-cm?fhir_vs"
ENTRIES = [("C25", "Malignant neoplasm of pancreas"), ("C25.0", "Malignant neoplasm of head of pancreas"),
           ("G40", "Epilepsy and recurrent seizures"), ("K86.1", "Other chronic pancreatitis")]


def test_every_word_must_begin_a_display_word():
    index = TextIndex(lambda: ENTRIES)
    assert [index.codes[i] for i in index.search("malig pancr")] == ["C25", "C25.0"]
    assert [index.codes[i] for i in index.search("pancrea")] == ["C25", "C25.0", "K86.1"]
    assert index.search("ancreas") == []


def test_a_one_word_text_also_finds_codes_it_begins():
    index = TextIndex(lambda: ENTRIES)
    assert [index.codes[i] for i in index.search("c25")] == ["C25", "C25.0"]
    assert [index.codes[i] for i in index.search("K86.1")] == ["K86.1"]


def test_small_code_systems_follow_the_same_rule():
    for text in ("malig pancr", "pancrea", "ancreas", "c25", "seiz epil"):
        index = TextIndex(lambda: ENTRIES)
        direct = [code for code, display in ENTRIES if has_words(code, display, query_words(text),
                                                                  text.lower() if " " not in text else None)]
        assert [index.codes[i] for i in index.search(text)] == direct, text


def test_search_text_is_cut_to_its_distinct_words():
    assert query_words("İ" * 30000) == ["i"]
    assert len(query_words(" ".join(f"w{i}" for i in range(100)))) == 16


def test_search_function_for_the_pages(registry):
    found = search(registry, "http://hl7.org/fhir/sid/icd-10-cm", "epilepsy", limit=3)
    assert found["total"] > 3 and len(found["concepts"]) == 3
    assert found["concepts"][0] == {"code": "G40", "display": "Epilepsy and recurrent seizures"}


def test_search_of_a_small_code_system(registry):
    assert search(registry, "http://example.org/cs/colors", "or")["concepts"] == [
        {"code": "orange", "display": "Orange"}]


def test_icd10cm_filtered_expansion_pages_from_the_index(scope):
    p = params(url=ICD_ALL, filter="epilepsy", count=20)
    out = expand(scope, resolve_valueset(scope, p), p)
    assert out["expansion"]["total"] == search(scope.registry, "http://hl7.org/fhir/sid/icd-10-cm", "epilepsy")["total"]
    assert len(out["expansion"]["contains"]) == 20
    assert out["expansion"]["contains"][0]["code"] == "G40"


def test_icd10cm_is_a_with_filter(scope):
    p = params(url="http://hl7.org/fhir/sid/icd-10-cm?fhir_vs=isa/G40", filter="intractable", count=5)
    out = expand(scope, resolve_valueset(scope, p), p)
    assert all(c["code"].startswith("G40") for c in out["expansion"]["contains"])
    assert all("intractable" in c["display"].lower() for c in out["expansion"]["contains"])


def test_count_above_the_limit_is_too_costly(scope):
    p = params(url=ICD_ALL, count=10000)
    with pytest.raises(TooCostly, match="more than the limit of 1000") as err:
        expand(scope, resolve_valueset(scope, p), p)
    assert err.value.status == 422


def test_a_large_count_on_a_small_value_set_is_fine(scope):
    p = params(url="http://example.org/vs/warm", count=5000)
    assert expand(scope, resolve_valueset(scope, p), p)["expansion"]["total"] == 3


def test_the_limits_are_configurable(index):
    scope = Registry(index, limits=Limits(max_expansion=5, max_expansion_work=100)).scope()
    p = params(url=ICD_ALL, count=6)
    with pytest.raises(TooCostly, match="limit of 5"):
        expand(scope, resolve_valueset(scope, p), p)
    regex = {"resourceType": "ValueSet", "url": "http://example.org/vs/regex", "status": "active", "compose": {
        "include": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "filter": [
            {"property": "code", "op": "regex", "value": "C25.*"}]}]}}
    with pytest.raises(TooCostly, match="more than 100 concepts"):
        expand(scope, regex, params(count=5))


def test_a_background_index_answers_once_built():
    index = TextIndex(lambda: ENTRIES, background=True)
    assert [index.codes[i] for i in index.search("epilep")] == ["G40"]
