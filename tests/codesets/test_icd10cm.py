"""ICD-10-CM answered from the cached table is the simple-icd-10-cm package's code set, code for code: the same
concepts, titles, parents, children, descendants, billability and inclusion terms, and the same release."""

import json
import logging

import pytest

from fhir_ire.codesets import icd10cm, icd10cm_cache


@pytest.fixture(scope="module")
def icd():
    return pytest.importorskip("simple_icd_10_cm")


@pytest.fixture(scope="module")
def derived(icd, tmp_path_factory):
    """The table derived once into a cache folder of this module; the module's answers come from it."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(folder))
        icd10cm_cache.load()  # derived from the package and written
        reload_table()  # the answers come from the file read back
        yield icd10cm_cache.cache_path()
    reload_table()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh, empty cache folder; the module's table is reloaded from it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    reload_table()
    yield tmp_path / "fhir-ire"
    reload_table()


def reload_table():
    icd10cm.table.cache_clear()
    icd10cm.all_codes.cache_clear()


def package_codes(icd) -> list[str]:
    return list(dict.fromkeys(c for c in icd.get_all_codes() if icd.is_category_or_subcategory(c)))


def package_parent(icd, code: str) -> str | None:
    """The package's parent when it is a code; a category's parent is a block, even one named like it (B10)."""
    p = icd.get_parent(code)
    return None if icd.is_category(code) or not icd.is_category_or_subcategory(p) else p


def test_every_concept_is_the_packages(icd, derived):
    codes = package_codes(icd)
    assert icd10cm.all_codes() == tuple(codes)
    assert list(icd10cm.titles()) == [(c, icd.get_description(c)) for c in codes]
    for code in codes:
        assert icd10cm.is_code(code)
        assert icd10cm.display(code) == icd.get_description(code)
        assert icd10cm.parent(code) == package_parent(icd, code), code
        assert icd10cm.children(code) == icd.get_children(code), code
        assert icd10cm.descendants(code) == icd.get_descendants(code), code
        assert icd10cm.is_billable(code) == icd.is_leaf(code), code
        assert icd10cm.inclusion_terms(code) == icd.get_inclusion_term(code), code


def test_hierarchy_is_the_packages(icd, derived):
    for code in package_codes(icd):
        ancestors = list(dict.fromkeys(a for a in icd.get_ancestors(code) if a != code and icd.is_category_or_subcategory(a)))
        chain, p = [], icd10cm.parent(code)
        while p:
            chain.append(p)
            p = icd10cm.parent(p)
        assert chain == ancestors, code
        for a in ancestors:
            assert icd10cm.is_ancestor(a, code) and icd.is_ancestor(a, code)
            assert not icd10cm.is_ancestor(code, a)
        assert not icd10cm.is_ancestor(code, code)


def test_chapters_blocks_and_other_spellings_answer_as_the_package(icd, derived):
    for name in icd.get_all_codes():  # chapters and blocks are not codes, except blocks named like a category
        assert icd10cm.is_code(name) == icd.is_category_or_subcategory(name), name
    for code in package_codes(icd):
        bare = code.replace(".", "")
        assert icd10cm.is_code(bare) == icd.is_valid_item(bare), bare
        assert icd10cm.display(bare) == icd.get_description(bare)
        assert not icd10cm.is_code(code.lower()) or code.lower() == code
    assert not icd10cm.is_code("C25.") and not icd10cm.is_code("") and icd10cm.display("XYZ") is None


def test_version_is_the_packages_release(icd):
    files = [p.name for p in (icd10cm_cache.package_dir() / "data").iterdir()]
    assert any(icd10cm.version() in f and f.startswith("icd10c-tabular-") for f in files)
    assert icd10cm_cache.package_version() in icd10cm_cache.cache_path().name


def test_the_table_is_cached_once_and_then_read_without_the_package(icd, cache, monkeypatch):
    assert not cache.exists()
    first = icd10cm_cache.load()
    path = icd10cm_cache.cache_path()
    assert path.parent == cache and json.loads(path.read_bytes())["key"] == icd10cm_cache.cache_key()
    assert [p.name for p in cache.iterdir()] == [path.name]  # the temporary file was renamed, not left beside

    def derive():
        raise AssertionError("derived again although the cache is current")

    monkeypatch.setattr(icd10cm_cache, "derive", derive)
    assert icd10cm_cache.load() == first


@pytest.mark.parametrize("damage", ["stale", "truncated", "not-a-table"])
def test_a_stale_or_broken_cache_is_rebuilt(icd, derived, cache, damage):
    good = json.loads(derived.read_bytes())
    path = icd10cm_cache.cache_path()
    cache.mkdir()
    if damage == "stale":  # as if written from another release of the package
        path.write_text(json.dumps({**good, "key": {**good["key"], "package": "0.0.1"}, "displays": ["x"] * 3}))
    elif damage == "truncated":
        path.write_bytes(derived.read_bytes()[:1000])
    else:
        path.write_text(json.dumps({"key": good["key"], "codes": ["A00"], "displays": []}))
    assert icd10cm_cache.load() == good
    assert icd10cm_cache.read(path, icd10cm_cache.cache_key()) == good


def test_an_unwritable_cache_folder_still_answers(icd, cache, caplog):
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING, logger="fhir_ire.codesets"):
        assert icd10cm.display("C25.0") == icd.get_description("C25.0")
    assert "cannot cache the ICD-10-CM table" in caplog.text
