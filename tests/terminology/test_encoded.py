"""Reads and searches are encoded once and kept (the served bundles never change): a kept answer is the answer
worked out afresh, links follow the host the client asked, refusals are never kept, and the store is bounded."""

import pytest
from werkzeug.datastructures import MultiDict

from fhir_ire.app import create_app
from fhir_ire.terminology.capabilities import search
from fhir_ire.web import fhir
from fhir_ire.web.fhir import Encoded

CPT = "http://www.ama-assn.org/go/cpt"


@pytest.fixture
def fresh(index):
    """A client of its own app, so that nothing is kept from other tests."""
    return create_app({"INDEX": index}).test_client()


def test_a_kept_search_is_the_search_worked_out_again(fresh, index):
    first = fresh.get(f"/fhir/CodeSystem?url={CPT}")
    again = fresh.get(f"/fhir/CodeSystem?url={CPT}")
    assert first.data == again.data and again.content_type == "application/fhir+json"
    expected = search(index.all("CodeSystem"), MultiDict([("url", CPT)]), "http://localhost/fhir", "CodeSystem")
    assert again.get_json(force=True) == expected


def test_each_query_has_its_own_answer(fresh):
    everything = fresh.get("/fhir/ValueSet").get_json(force=True)
    counted = fresh.get("/fhir/ValueSet?_summary=count").get_json(force=True)
    assert "entry" in everything and "entry" not in counted and everything["total"] == counted["total"]


def test_a_refused_search_stays_refused(fresh):
    for _ in range(2):
        resp = fresh.get("/fhir/ValueSet?_count=x")
        assert resp.status_code == 400 and resp.get_json(force=True)["resourceType"] == "OperationOutcome"


def test_reads_are_kept_whole(fresh):
    first = fresh.get("/fhir/CodeSystem/cpt")
    assert fresh.get("/fhir/CodeSystem/cpt").data == first.data
    assert first.get_json(force=True)["url"] == CPT


def test_the_store_is_bounded_by_entries_and_bytes(monkeypatch):
    monkeypatch.setattr(fhir, "MAX_ENCODED", 3)
    monkeypatch.setattr(fhir, "MAX_ENCODED_BYTES", 100)
    kept = Encoded()
    for i in range(10):
        kept.keep(i, b"x" * 10)
        assert len(kept) <= 3 and kept[i] == b"x" * 10
    kept.keep("big", b"y" * 90)
    assert len(kept) <= 3 and kept.size <= 100 and kept["big"] == b"y" * 90
    kept.keep("too big", b"z" * 101)
    assert "too big" not in kept and kept.size <= 100
