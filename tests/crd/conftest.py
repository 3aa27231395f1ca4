"""CRD fixtures: apps over the committed bundles and over a rebuild with extra policies, request builders,
and the response checks every scenario runs (CDS Hooks schema, CRD coverage-information rules)."""

import copy
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from fhir_ire import create_app
from fhir_ire.build.command import build_to
from fhir_ire.uris import CPT, CRD_COVERAGE_INFORMATION, ICD10CM

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SYNTHETIC = ROOT / "tests" / "build" / "fixtures" / "synthetic"
NUCC_SAMPLE = ROOT / "tests" / "build" / "fixtures" / "nucc-sample.csv"
RESPONSE_SCHEMA = jsonschema.Draft7Validator(json.loads((HERE / "fixtures" / "cds-hooks-response.schema.json").read_text()))


@pytest.fixture(scope="session")
def client():
    return create_app({"BUNDLES": str(ROOT / "bundles")}).test_client()


def build_extra(tmp_path_factory, documents: Path = SYNTHETIC) -> Path:
    """The seeds plus more documents (by default our synthetic ones: a criteria + prior-auth policy, an
    investigational one), rebuilt into a temporary bundles folder."""
    seeds = tmp_path_factory.mktemp("seeds")
    for p in list((ROOT / "seeds").iterdir()) + list(documents.iterdir()):
        shutil.copy(p, seeds / p.name)
    out = tmp_path_factory.mktemp("bundles") / "bundles"
    build_to(seeds, out, NUCC_SAMPLE)
    return out


@pytest.fixture(scope="session")
def extra_client(tmp_path_factory):
    return create_app({"BUNDLES": str(build_extra(tmp_path_factory))}).test_client()


def fixture(name: str) -> dict:
    """A recorded request: tests/crd/fixtures/<hook>-<scenario>.json."""
    return json.loads((HERE / "fixtures" / f"{name}.json").read_text())


def service_request(rid, code, system=CPT, dx=None, billing=None):
    sr = {"resourceType": "ServiceRequest", "id": rid, "status": "draft", "intent": "order",
          "code": {"coding": [{"system": system, "code": code}]}, "subject": {"reference": "Patient/pat-1"},
          "authoredOn": "2025-05-01", "requester": {"reference": "Practitioner/pract-1"}}
    if billing:
        sr["code"]["extension"] = [{"url": "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-billing-options",
                                    "valueCodeableConcept": {"coding": [{"system": CPT, "code": billing}]}}]
    if dx:
        sr["reasonCode"] = [{"coding": [{"system": ICD10CM, "code": dx}]}]
    return sr


def coverage(payor="iCare", sopt=None, org_ref=None):
    cov = {"resourceType": "Coverage", "id": "cov-1", "status": "active", "beneficiary": {"reference": "Patient/pat-1"},
           "payor": [{"display": payor}] if payor else []}
    if org_ref:
        cov["payor"] = [{"reference": org_ref}]
    if sopt:
        cov["type"] = {"coding": [{"system": "https://nahdo.org/sopt", "code": sopt}]}
    return cov


def bundle(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def request(hook="order-sign", orders=(), cov=None, conditions=(), version=None, **context):
    body = {"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/pract-1", "patientId": "pat-1", **context},
            "prefetch": {"patient": {"resourceType": "Patient", "id": "pat-1"},
                         "conditions": bundle(*conditions)}}
    if hook in ("order-sign", "order-select"):
        body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                          "entry": [{"resource": o} for o in orders]}
    if cov is not None:
        body["prefetch"]["coverage"] = bundle(cov)
    if version:
        body["extension"] = {"davinci-crd.requestedVersion": version}
    return copy.deepcopy(body)


def call(client, service, body, status=200):
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code == status, r.get_data(as_text=True)
    out = r.get_json()
    if status == 200:
        check_response(out, body)
    return out


def error_text(response) -> str:
    """The diagnostics of the OperationOutcome a refused call answers with (CRD hook-10)."""
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["severity"] == "error"
    return body["issue"][0]["details"]["text"]


def coverage_info(action) -> dict:
    ext = next(e for e in action["resource"]["extension"] if e["url"] == CRD_COVERAGE_INFORMATION)
    out = {}
    for e in ext["extension"]:
        value = next(v for k, v in e.items() if k.startswith("value") or k == "extension")
        out.setdefault(e["url"], []).append(value)
    return out


def check_response(out, body):
    """CDS Hooks response schema, and the CRD coverage-information invariants."""
    errors = [e.message for e in RESPONSE_SCHEMA.iter_errors(out)]
    assert errors == []
    if body["hook"] != "order-select":
        assert "systemActions" in out
    for action in out.get("systemActions", []):
        info = coverage_info(action)
        assert {"coverage", "covered", "date", "coverage-assertion-id"} <= set(info)
        covered = info["covered"][0]
        if covered == "not-covered":
            assert "pa-needed" not in info
        values = info["covered"] + info.get("pa-needed", []) + info.get("doc-needed", [])
        if "conditional" in values:
            assert "info-needed" in info
        if "indeterminate" in values or "OTH" in info.get("info-needed", []) or "doc-purpose" in info:
            assert "reason" in info
        if body["hook"] == "order-select":
            assert not set(info.get("doc-needed", [])) & {"clinical", "admin", "both"}
        if not (body.get("extension") or {}).get("davinci-crd.requestedVersion"):
            assert covered != "indeterminate"  # 2.0.1 has no indeterminate
