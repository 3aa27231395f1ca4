"""What the pages need from the bundles: the documents' text inline, the QA outcome in the loaded index, and the
policy number on payer rules."""

import base64
import hashlib

from fhir_ire.store import load_bundles


def test_each_document_reference_carries_the_bytes_its_sha256_names(root):
    index = load_bundles(root / "bundles")
    docs = index.all("DocumentReference")
    assert docs
    for doc in docs:
        data = base64.b64decode(doc["content"][0]["attachment"]["data"])
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
        assert doc["identifier"][0]["value"] == "ni:///sha-256;" + digest
        assert len(data) == doc["content"][0]["attachment"]["size"]


def test_the_qa_outcome_is_loaded_beside_the_bundles(root):
    index = load_bundles(root / "bundles")
    assert index.outcomes["qa-outcome"]["resourceType"] == "OperationOutcome"
    assert index.outcomes["qa-outcome"]["issue"]
    assert "OperationOutcome" not in index.types()  # not served as a resource type


def test_payer_policy_rules_carry_their_policy_number(root):
    index = load_bundles(root / "bundles")
    payer_rules = [pd for pd in index.all("PlanDefinition")
                   if any(u["code"]["code"] == "payer" for u in pd["useContext"]) and "policy" in pd["title"]]
    assert payer_rules
    for pd in payer_rules:
        number = pd["identifier"][0]["value"]
        assert f"({number})" in pd["title"]
