"""Payers that are part of another, end to end: the seeds plus a brand's policy, one regional plan's own policy, a
sibling plan's policy and a Medicare contractor's LCD (tests/crd/fixtures/lineage), built by `fhir-ire build` and
answered through the CDS Hooks endpoint. The answers come from the rules the build writes, never written here."""

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fhir_ire import create_app
from fhir_ire.crd.payers import PayerIndex
from fhir_ire.store import load_bundles

from ..conftest import serve_process
from .conftest import HERE, ROOT, build_extra, call, coverage, coverage_info, request, service_request
from .test_inferno_checks import failures

DOCS = HERE / "fixtures" / "lineage"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_extra(tmp_path_factory, DOCS)


@pytest.fixture(scope="module")
def store(built):
    return load_bundles(built)


@pytest.fixture(scope="module")
def client(built):
    return create_app({"BUNDLES": str(built)}).test_client()


def payer_named(store, words: str) -> dict:
    return next(o for o in store.all("Organization") if o.get("name", "").lower() == words.lower())


def policy_of(store, payer: dict) -> dict:
    """The payer's coverage PlanDefinition (the one whose useContext names it)."""
    return next(pd for pd in store.all("PlanDefinition") for u in pd.get("useContext") or []
                if (u.get("valueReference") or {}).get("reference") == f"Organization/{payer['id']}")


def match_payer_id(store, name: str) -> str:
    """The payer Organization a Coverage naming `name` is matched to (the engine's own matching)."""
    return PayerIndex(store).by_name(name)


def policy(store, name: str) -> dict:
    return policy_of(store, payer_named(store, name))


def answer(client, payor, code):
    cov = coverage(payor) if isinstance(payor, str) else {**coverage(None), "payor": payor}
    out = call(client, "order-sign-crd", request(orders=[service_request("sr-1", code)], cov=cov, version="2.2"))
    return coverage_info(out["systemActions"][0])


def determination(pd: dict, code: str) -> str:
    """What the rule's action for this code determines (read from the built rule, not written here)."""
    act = next(a for a in pd["action"] if code in json.dumps(a["condition"]))
    return next(e["valueCode"] for e in act["extension"][0]["extension"] if e["url"] == "covered")


def test_the_build_publishes_the_line_and_the_plans_the_directory_lists(store):
    plan = payer_named(store, "Kaiser Foundation Health Plan of Washington")
    brand = payer_named(store, "Kaiser Permanente")
    assert plan["partOf"]["reference"] == f"Organization/{brand['id']}"
    # a plan no document names is published as part of its brand, so its members are answered (hook-13)
    other = payer_named(store, "Kaiser Foundation Health Plan of Georgia")
    assert other["partOf"]["reference"] == f"Organization/{brand['id']}"
    assert payer_named(store, "Palmetto GBA")["partOf"]["reference"] == \
        f"Organization/{payer_named(store, 'Medicare')['id']}"


# (the Coverage's payor, the ordered code, whose policy must answer, whether that payer is one the payor is part of)
NEAREST = {
    "a plan's own policy outranks its brand's": ("Kaiser Permanente Washington", "0600T",
                                                 "Kaiser Foundation Health Plan of Washington", False),
    "a plan without a policy for the code gets its brand's, never a sibling's": (
        "Kaiser Foundation Health Plan of Washington", "0601T", "Kaiser Permanente", True),
    "the sibling gets its own": ("Kaiser Permanente Colorado", "0601T", "Kaiser Foundation Health Plan of Colorado",
                                 False),
    "a plan no document names gets its brand's": ("Kaiser Permanente Georgia", "0600T", "Kaiser Permanente", True),
    "the brand's members never get a plan's": ("Kaiser Permanente", "0600T", "Kaiser Permanente", False),
    "a contractor's members get its LCD": ("Novitas Solutions", "0600T", "Novitas Solutions", False),
    "and Medicare's rule where it has none": ("Novitas", "0601T", "Medicare", True),
    "a Medicare Coverage never gets a contractor's LCD": ("Medicare", "0600T", "Medicare", False),
    "nor does another contractor's": ("Palmetto GBA", "0600T", "Medicare", True),
}


@pytest.mark.parametrize("payor, code, whose, inherited", NEAREST.values(), ids=NEAREST.keys())
def test_the_nearest_policy_in_the_payors_line_answers(client, store, payor, code, whose, inherited):
    info = answer(client, payor, code)
    assert info["covered"] == [determination(policy(store, whose), code)]
    text = info["reason"][0]["text"]
    assert text.startswith(whose)  # the policy's reason names its payer
    member = store.get("Organization", match_payer_id(store, payor))["name"]
    assert (f"{member} is part of {whose}: {whose}'s policy applies." in text) is inherited


@pytest.mark.parametrize("a, b, code", [("Kaiser Foundation Health Plan of Washington", "Kaiser Permanente", "0600T"),
                                        ("Kaiser Foundation Health Plan of Colorado", "Kaiser Permanente", "0601T"),
                                        ("Novitas Solutions", "Medicare", "0600T")])
def test_the_documents_disagree_where_the_line_decides(store, a, b, code):
    """So that the answers above tell which policy applied."""
    assert determination(policy(store, a), code) != determination(policy(store, b), code)


@pytest.mark.parametrize("first", ["program", "contractor"])
def test_a_coverage_naming_medicare_and_its_contractor_is_the_contractors(client, store, first):
    lcd = policy(store, "Novitas Solutions")
    payors = [{"display": "Medicare"}, {"display": "Novitas Solutions"}]
    info = answer(client, payors if first == "program" else payors[::-1], "0600T")
    assert info["covered"] == [determination(lcd, "0600T")]


@pytest.mark.parametrize("bundles", ["committed", "with the lineage documents"])
def test_payers_without_a_parent_answer_as_without_the_lineage(built, tmp_path, bundles):
    """Every recorded request answers the same when the bundles' partOf are removed (uuids and dates aside)."""
    built = ROOT / "bundles" if bundles == "committed" else built
    flat = tmp_path / "flat"
    shutil.copytree(built, flat)
    coverage_bundle = flat / "03-coverage.json"
    data = json.loads(coverage_bundle.read_text())
    for e in data["entry"]:
        e["resource"].pop("partOf", None)
    coverage_bundle.write_text(json.dumps(data))
    apps = [create_app({"BUNDLES": str(b)}).test_client() for b in (built, flat)]
    fixtures = [json.loads(p.read_text()) for p in sorted((HERE / "fixtures").glob("*.json"))]
    fixtures = [f for f in fixtures if "hook" in f]
    assert len(fixtures) >= 10
    for body in fixtures:
        service = f"{body['hook']}-crd"
        got = [_normal(c.post(f"/cds-services/{service}", json=copy.deepcopy(body))) for c in apps]
        assert got[0] == got[1], body["hookInstance"]


def _normal(response) -> tuple:
    text = response.get_data(as_text=True)
    body = json.loads(text)

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("uuid",)
                    and not (v.get("url") in ("date", "coverage-assertion-id") and k.startswith("value"))}
        return [strip(x) for x in v] if isinstance(v, list) else v
    return response.status_code, strip(body)


@pytest.mark.integration
@pytest.mark.shared
def test_inherited_answers_pass_the_inferno_checks_in_both_modes(shared, built, tmp_path):
    """Coverage-information from an ancestor's policy (a brand's, Medicare's for a contractor) is valid against the
    CRD 2.0.1 and 2.2 profiles, as Inferno's checks read them (../shared/tools/crd-checks)."""
    checks = shared / "tools" / "crd-checks"
    bodies = tmp_path / "lineage"
    bodies.mkdir()
    cases = [("Kaiser Permanente Washington", "0601T"), ("Kaiser Permanente Georgia", "0600T"), ("Novitas", "0601T"),
             ("Kaiser Permanente Washington", "0600T")]
    for n, (payor, code) in enumerate(cases):
        body = request(orders=[service_request(f"sr-{n}", code)], cov=coverage(payor))
        body["hookInstance"] = f"d1577c69-dfbe-44ad-ba6d-3e05e953b2e{n}"
        (bodies / f"order-sign-lineage-{n}.json").write_text(json.dumps(body))
    args = ["--bundles", str(built), "--workers", "1", "--audit-store", f"sqlite:///{tmp_path / 'audit.sqlite'}"]
    with serve_process(args, tmp_path / "serve.log") as base:
        done = subprocess.run([sys.executable, str(checks / "inferno_checks.py"), "--base", base,
                               f"--set=lineage={bodies}", "--json", str(tmp_path / "out.json")],
                              capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "out.json").read_text())
    assert [f[:5] for f in failures(results, "lineage")] == []
    validated = [t["result"] for s in results["sets"] for g in s["groups"] for t in g["tests"]
                 if t["id"] == "crd_coverage_info_system_action_validation"]
    assert validated == ["pass"] * 8  # four bodies, each as CRD 2.0.1 and as 2.2
