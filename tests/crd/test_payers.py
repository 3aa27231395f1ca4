"""Payer identity and coverage resolution on a synthetic index (CRD hook-13, resp-45): identifier first, then the
referenced Organization, then the display; plain functions, no Flask."""

from datetime import date

import pytest

from fhir_ire.crd.context import Fetcher
from fhir_ire.crd.payers import NoCoverage, PayerIndex, is_active, match_payer, resolve_coverage
from fhir_ire.store import ResourceIndex

TODAY = date(2025, 6, 1)
NAIC = "urn:oid:2.16.840.1.113883.6.300"


def payers():
    index = ResourceIndex()
    for rid, name, alias, ident in [("acme", "Acme Synthetic Health", ["ASH"], "11111"),
                                    ("zenith", "Zenith Mutual", [], "22222")]:
        index.add({"resourceType": "Organization", "id": rid, "name": name, "alias": alias,
                   "identifier": [{"system": NAIC, "value": ident}], "type": [{"coding": [{"code": "pay"}]}]})
    index.add({"resourceType": "Organization", "id": "clinic", "name": "Acme Clinic"})  # not a payer
    return PayerIndex(index)


def cov(payor, cid="c1", status="active", period=None):
    c = {"resourceType": "Coverage", "id": cid, "status": status, "payor": payor}
    if period:
        c["period"] = period
    return c


@pytest.mark.parametrize("payor, expected", [
    ([{"identifier": {"system": NAIC, "value": "22222"}, "display": "Acme Synthetic Health"}], "zenith"),
    ([{"identifier": {"value": "11111"}}], "acme"),
    ([{"identifier": {"system": "urn:other", "value": "11111"}}], None),
    ([{"display": "ash"}], "acme"),
    ([{"display": "Acme Clinic"}], None),
    ([{"reference": "#org"}], "zenith"),
], ids=["identifier-before-display", "identifier-without-system", "identifier-of-another-system", "alias-display",
        "not-a-payer", "contained-organization-identifier"])
def test_hook_13_payer_is_matched_by_identifier_then_organization_then_display(payor, expected):
    c = cov(payor)
    c["contained"] = [{"resourceType": "Organization", "id": "org", "name": "Someone Else",
                       "identifier": [{"system": NAIC, "value": "22222"}]}]
    assert match_payer(payers(), c, {}, Fetcher({}, [])) == expected


def test_hook_13_referenced_organization_in_prefetch_matches_by_its_name():
    body = {"prefetch": {"payer": {"resourceType": "Organization", "id": "o9", "name": "Zenith Mutual"}}}
    c = cov([{"reference": "http://ehr.example.org/fhir/Organization/o9"}])
    assert match_payer(payers(), c, body, Fetcher(body, [])) == "zenith"


def test_hook_13_no_coverage_is_refused():
    with pytest.raises(NoCoverage, match="No Coverage for the patient"):
        resolve_coverage(payers(), [], {}, Fetcher({}, []), TODAY)


def test_hook_13_coverage_of_a_payer_not_handled_is_refused():
    with pytest.raises(NoCoverage, match="not a payer this CRD service handles") as err:
        resolve_coverage(payers(), [cov([{"display": "Unknown Plan"}])], {}, Fetcher({}, []), TODAY)
    assert err.value.status == 400


def test_hook_13_one_handled_coverage_among_others_is_the_primary_one():
    found = resolve_coverage(payers(), [cov([{"display": "Other"}], "c0"), cov([{"display": "ASH"}], "c1")], {},
                             Fetcher({}, []), TODAY)
    assert (found.kind, found.payer_id, found.coverages[0]["id"]) == ("ok", "acme", "c1")


@pytest.mark.parametrize("status, period, active", [
    ("active", None, True), ("cancelled", None, False), (None, None, True),
    ("active", {"start": "2025-01-01", "end": "2025-05-31"}, False),
    ("active", {"start": "2025-07-01"}, False), ("active", {"end": "2025-06-01T10:00:00Z"}, True),
], ids=["active", "cancelled", "no-status", "ended", "not-started", "ends-today"])
def test_coverage_is_active_by_status_and_period(status, period, active):
    assert is_active(cov([], status=status, period=period), TODAY) is active


def test_resp_45_inactive_coverage_resolves_to_not_active():
    found = resolve_coverage(payers(), [cov([{"display": "ASH"}], status="cancelled")], {}, Fetcher({}, []), TODAY)
    assert found.kind == "inactive" and "cancelled" in found.reason


def test_resp_45_two_active_coverages_of_handled_payers_are_ambiguous():
    found = resolve_coverage(payers(), [cov([{"display": "ASH"}], "c1"), cov([{"display": "Zenith Mutual"}], "c2")],
                             {}, Fetcher({}, []), TODAY)
    assert found.kind == "ambiguous" and [c["id"] for c in found.coverages] == ["c1", "c2"]


def test_resp_43_coverage_search_failure_is_technical():
    fetcher = Fetcher({}, [])
    fetcher.failures["coverage"] = "the FHIR server could not be reached (ConnectionError)"
    found = resolve_coverage(payers(), [], {}, fetcher, TODAY)
    assert found.kind == "technical" and "could not be reached" in found.reason


def family():
    index = ResourceIndex()
    for rid, parent, ident in [("program", None, "10000"), ("contractor", "program", "10001"),
                               ("other-contractor", "program", "10002")]:
        org = {"resourceType": "Organization", "id": rid, "name": rid.replace("-", " ").title(),
               "identifier": [{"system": NAIC, "value": ident}], "type": [{"coding": [{"code": "pay"}]}]}
        if parent:
            org["partOf"] = {"reference": f"Organization/{parent}"}
        index.add(org)
    return PayerIndex(index)


@pytest.mark.parametrize("payor, expected", [
    ([{"display": "Program"}, {"identifier": {"system": NAIC, "value": "10001"}}], "contractor"),
    ([{"identifier": {"system": NAIC, "value": "10001"}}, {"display": "Program"}], "contractor"),
    ([{"identifier": {"system": NAIC, "value": "10000"}}, {"reference": "#org"}], "contractor"),
    ([{"display": "Program"}, {"display": "Someone Else"}], "program"),
    ([{"display": "Contractor"}, {"display": "Other Contractor"}], "contractor"),
], ids=["program-then-contractor", "contractor-then-program", "contractor-as-contained-organization",
        "program-and-a-stranger", "two-siblings-the-first"])
def test_a_coverage_naming_a_payer_and_one_part_of_it_is_the_more_specific_ones(payor, expected):
    c = cov(payor)
    c["contained"] = [{"resourceType": "Organization", "id": "org", "name": "A Contractor",
                       "identifier": [{"system": NAIC, "value": "10001"}]}]
    assert match_payer(family(), c, {}, Fetcher({}, [])) == expected
