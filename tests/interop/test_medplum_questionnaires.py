"""Medplum's validator accepts the DTR Questionnaires and their item Provenance, also those of a policy with criteria
and a prior-authorization document list (built here from the synthetic documents beside the seeds)."""

import copy

import pytest
import requests

from fhir_ire.store import read_bundle
from tests.crd.conftest import build_extra

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    out = build_extra(tmp_path_factory)
    found = [e["resource"] for name in ("03-coverage.json", "04-provenance.json")
             for e in read_bundle(out / name)["entry"] if e["resource"]["resourceType"] == "Questionnaire"
             or e["resource"]["id"].startswith("prov-dtr-")]
    assert sum(r["resourceType"] == "Questionnaire" for r in found) >= 2
    return found


def test_medplum_validator_accepts_the_dtr_questionnaires_and_their_provenance(medplum, forms):
    errors = []
    for resource in forms:
        answer = requests.post(f"{medplum}/{resource['resourceType']}/$validate", json=resource, timeout=10).json()
        errors += [f"{resource['id']}: {i.get('details', {}).get('text')} {i.get('expression')}"
                   for i in answer["issue"] if i["severity"] in ("error", "fatal")]
    assert errors == []


def test_medplum_validator_refuses_a_broken_questionnaire(medplum, forms):
    # the control for the test above: the validator does find errors in our kind of resource
    broken = copy.deepcopy(next(r for r in forms if r["resourceType"] == "Questionnaire"))
    del broken["item"][0]["item"][0]["linkId"]
    broken["item"][0]["txet"] = "typo"
    answer = requests.post(f"{medplum}/Questionnaire/$validate", json=broken, timeout=10).json()
    texts = {(i["details"]["text"], i["expression"][0]) for i in answer["issue"] if i["severity"] == "error"}
    assert ("Missing required property", "Questionnaire.item[0].item[0].linkId") in texts
    assert ('Invalid additional property "txet"', "Questionnaire.item[0].txet") in texts
