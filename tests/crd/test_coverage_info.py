"""The coverage-information extension on its own: CRD 2.2 invariants and the 2.0.1 shape, without Flask."""

import pytest

from fhir_ire.crd.coverage_info import coverage_information

V22 = {"extension": {"davinci-crd.requestedVersion": "2.2"}}
V201 = {}


def values(ext):
    out = {}
    for e in ext["extension"]:
        out.setdefault(e["url"], []).append(next(v for k, v in e.items() if k.startswith("value") or k == "extension"))
    return out


def test_no_auth_never_keeps_documentation_for_prior_auth():
    det = {"covered": "covered", "pa-needed": "no-auth", "doc-needed": ["clinical"],
           "doc-purpose": ["withpa", "withclaim"], "reason": "r"}
    info = values(coverage_information(det, "Coverage/c", "order-sign", V22, "a1"))
    assert info["doc-purpose"] == ["withclaim"]


def test_not_covered_has_no_pa_needed():
    info = values(coverage_information({"covered": "not-covered", "pa-needed": "auth-needed", "reason": "r"},
                                       "Coverage/c", "order-sign", V22, "a1"))
    assert "pa-needed" not in info and info["covered"] == ["not-covered"]


@pytest.mark.parametrize("det", [
    {"covered": "indeterminate", "reason": "no rules"},
    {"covered": "covered", "pa-needed": "indeterminate", "doc-needed": ["indeterminate", "patient"], "reason": "r"},
], ids=["covered-indeterminate", "pa-and-doc-indeterminate"])
def test_crd_2_0_1_answers_use_only_2_0_1_codes(det):
    info = values(coverage_information(det, "Coverage/c", "order-sign", V201, "a1"))
    codes = info["covered"] + info.get("pa-needed", []) + info.get("doc-needed", [])
    assert "indeterminate" not in codes and "patient" not in codes
    assert info["pa-needed"] and "info-needed" in info  # 2.0.1: pa-needed unless not-covered; conditional => info


def test_crd_2_2_indeterminate_keeps_its_reason():
    info = values(coverage_information({"covered": "indeterminate", "reason": "no rules for this payer"},
                                       "Coverage/c", "order-sign", V22, "a1"))
    assert info["covered"] == ["indeterminate"] and info["reason"][0]["text"] == "no rules for this payer"


def test_order_select_drops_clinical_documentation_and_its_purpose():
    det = {"covered": "conditional", "pa-needed": "no-auth", "doc-needed": ["clinical"],
           "doc-purpose": ["withclaim"], "info-needed": ["OTH"], "reason": "r"}
    info = values(coverage_information(det, "Coverage/c", "order-select", V22, "a1"))
    assert "doc-needed" not in info and "doc-purpose" not in info
