"""Parameters from GET queries and POST Parameters bodies: value[x] types, repeats, bad shapes."""

import pytest

from fhir_ire.errors import InvalidRequest
from fhir_ire.terminology.params import Params


def test_query_repeats_and_coding_shorthand():
    p = Params.from_query([("property", "a"), ("property", "b"), ("coding", "http://x|1")])
    assert p.all("property") == ["a", "b"]
    assert p.coding("coding") == {"system": "http://x", "code": "1"}


def test_body_accepts_any_primitive_value_type():
    p = Params.from_resource({"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueCanonical": "http://x"}, {"name": "count", "valueInteger": 3},
        {"name": "tx-resource", "resource": {"resourceType": "ValueSet", "url": "http://v"}}]})
    assert p.text("url") == "http://x" and p.integer("count") == 3
    assert p.resources()[0]["url"] == "http://v"


def test_body_must_be_parameters():
    with pytest.raises(InvalidRequest, match="Parameters"):
        Params.from_resource({"resourceType": "Patient"})


@pytest.mark.parametrize("value", ["yes", "2"], ids=["word", "number"])
def test_flag_rejects_non_booleans(value):
    with pytest.raises(InvalidRequest, match="boolean"):
        Params([("activeOnly", value)]).flag("activeOnly")


def test_integer_rejects_text():
    with pytest.raises(InvalidRequest, match="integer"):
        Params([("count", "ten")]).integer("count")


def test_complex_value_where_primitive_expected():
    with pytest.raises(InvalidRequest, match="primitive"):
        Params([("code", {"coding": []})]).text("code")
