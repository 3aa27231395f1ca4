"""Issue 8 item 6, end to end: Organizations built from documents as payers publish them (the seeds with three
real-docs: Blue Cross and Blue Shield of Louisiana, Blue Cross of Idaho, a Cigna Healthcare summary) and the hook's
payer matching (fhir_ire/crd/payers.py) over them. Spellings of one payer meet; two Blue plans never do; a Coverage's
payor.identifier is matched before its display."""

import shutil

import pytest

from fhir_ire.build.command import output_files
from fhir_ire.crd.context import Fetcher
from fhir_ire.crd.payers import PayerIndex, match_payer
from fhir_ire.store import ResourceIndex

from .conftest import AS_OF, SEEDS

DOCS = ("d19_bcbs-louisiana_rfa-primary-metastatic-tumors-00182.txt", "d20_blue-cross-idaho_mrgfus-7-01-109.txt",
        "d21_payerpolicy-cigna_thyroid-rfa-mm0575.txt")


@pytest.fixture(scope="module")
def payers(shared, tmp_path_factory):
    folder = tmp_path_factory.mktemp("payers") / "seeds"
    shutil.copytree(SEEDS, folder)
    for name in DOCS:
        shutil.copy(shared / "real-docs" / name, folder)
    files, _, _ = output_files(folder, None, as_of=AS_OF)
    index = ResourceIndex()
    for name, bundle in files.items():
        if "/" not in name and bundle.get("resourceType") == "Bundle":
            for entry in bundle["entry"]:
                index.add(entry["resource"])
    return PayerIndex(index)


def payer_of(payers, payor: list) -> str | None:
    coverage = {"resourceType": "Coverage", "id": "c", "status": "active", "payor": payor}
    return match_payer(payers, coverage, {}, Fetcher({}, []))


def test_spellings_of_cigna_are_one_payer(payers):
    found = {payer_of(payers, [{"display": name}]) for name in ("Cigna", "Cigna Healthcare", "Cigna Health", "CIGNA",
                                                                 "The Cigna Group")}
    assert len(found) == 1 and None not in found


def test_two_blue_plans_are_never_confused(payers):
    louisiana = payer_of(payers, [{"display": "Blue Cross and Blue Shield of Louisiana"}])
    idaho = payer_of(payers, [{"display": "Blue Cross of Idaho"}])
    assert louisiana and idaho and louisiana != idaho
    assert payer_of(payers, [{"display": "BLUE CROSS & BLUE SHIELD OF LOUISIANA"}]) == louisiana
    assert payer_of(payers, [{"display": "Blue Cross"}]) is None  # a name many payers share names none of them


def test_payor_identifier_is_matched_before_the_display(payers):
    cigna = payer_of(payers, [{"display": "Cigna"}])
    org = payers.orgs[cigna]
    ident = next(i for i in org["identifier"] if i["type"]["coding"][0]["code"] == "NIIP")
    louisiana = payer_of(payers, [{"display": "Blue Cross and Blue Shield of Louisiana"}])
    # the identifier names Cigna although the display names another payer
    assert payer_of(payers, [{"identifier": {"system": ident["system"], "value": ident["value"]},
                              "display": "Blue Cross and Blue Shield of Louisiana"}]) == cigna != louisiana
