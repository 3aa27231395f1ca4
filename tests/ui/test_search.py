"""The code explorer's search without a browser: words find codes of the whole ICD-10-CM and NUCC (through the
terminology word index) that the documents never name, best wording first, and the codes the documents name are
still found, first, by their own wording too."""

import re
from pathlib import Path

import pytest

from fhir_ire import create_app
from fhir_ire.uris import ICD10CM, NUCC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app():
    return create_app({"BUNDLES": str(ROOT / "bundles")})


@pytest.fixture(scope="module")
def finder(app):
    return app.extensions["fhir_ire.ui.finder"]


@pytest.fixture(scope="module")
def bundle_text() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "bundles").glob("*.json")))


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def test_a_word_finds_every_icd10cm_code_whose_title_has_it(finder, bundle_text):
    icd = pytest.importorskip("simple_icd_10_cm")
    expected = {c for c in icd.get_all_codes(True) if icd.is_category_or_subcategory(c)
                and any(w.startswith("epilepsy") for w in words(icd.get_description(c)))}
    found = finder.search("epilepsy")
    assert dict(found.totals)[ICD10CM] == len(expected)
    shown = [h for h in found.hits if h.system == ICD10CM]
    assert shown and {h.code for h in shown} <= expected
    assert all(h.display == icd.get_description(h.code) for h in shown)  # the official title
    assert any(f'"{h.code}"' not in bundle_text for h in shown)  # codes no document names
    assert not any(h.documented for h in shown if f'"{h.code}"' not in bundle_text)


def test_the_closest_wording_comes_first_not_code_system_order(finder):
    found = finder.search("epilepsy", ICD10CM)
    first, in_order = found.hits[0], sorted(found.hits, key=lambda h: h.code)
    assert words(first.display)[0] == "epilepsy"
    assert len(words(first.display)) < len(words(in_order[0].display))  # G40.0 is a long 'Localization-related ...'
    lengths = [len(words(h.display)) for h in found.hits if words(h.display)[0] == "epilepsy"]
    assert lengths[0] == min(lengths)


def test_a_nucc_specialty_the_documents_never_name_is_found_by_its_words(app, finder, bundle_text):
    nucc = app.extensions["fhir_ire.registry"].scope().codesystem(NUCC)
    concepts = [c for c in nucc.concepts() if f'"{c.code}"' not in bundle_text and c.display]
    assert len(concepts) > 500
    for concept in concepts[::97]:
        found = finder.search(concept.display)
        assert (NUCC, concept.code) in [(h.system, h.code) for h in found.hits], concept.display
        assert dict(found.totals)[NUCC] >= 1


def test_documented_codes_come_first_and_are_found_by_the_documents_wording(app, finder):
    fragments = [cs for cs in app.extensions["fhir_ire.index"].all("CodeSystem") if cs.get("content") == "fragment"]
    checked = 0
    for cs in fragments:
        for concept in cs.get("concept") or []:
            own = set(words(concept.get("display") or ""))
            for designation in concept.get("designation") or []:
                theirs = [w for w in words(designation["value"]) if len(w) > 4 and not any(o.startswith(w) for o in own)]
                if theirs:  # a word only a document used for this code finds it
                    hits = finder.search(theirs[0]).hits
                    assert (cs["url"], concept["code"]) in [(h.system, h.code) for h in hits], theirs[0]
                    checked += 1
    assert checked >= 3
    hits = finder.search("malignant").hits
    flags = [h.documented for h in hits]
    assert True in flags and False in flags
    assert flags == sorted(flags, reverse=True)  # every documented code before the others


def test_search_page_lists_whole_system_totals_and_limits_to_one_system(app):
    client = app.test_client()
    page = client.get("/ui/codes?q=epilepsy").get_data(as_text=True)
    assert re.search(r"Clinical Modification</a>: \d+", page)
    only = client.get("/ui/codes", query_string={"q": "epilepsy", "system": NUCC}).get_data(as_text=True)
    systems = set(re.findall(r"</td><td>([^<]+)</td><td>(?:named)?</td></tr>", only))
    assert systems == {"NUCC Health Care Provider Taxonomy"}


def test_a_string_a_condition_compares_with_is_not_a_code_page(app):
    assert app.test_client().get("/ui/codes/active").status_code == 404
