"""The one place that imports fhir.resources: R4B classes (identical to R4 for our resources) and dump()."""

import json

import orjson
from fhir.resources.R4B import get_fhir_model_class


def model_class(resource_type: str):
    return get_fhir_model_class(resource_type)


def validate(resource: dict) -> None:
    """Parse a resource dict with the R4B model; raises pydantic.ValidationError when invalid."""
    model_class(resource["resourceType"]).model_validate(resource)


def dump_bytes(data) -> bytes:
    """Deterministic JSON as UTF-8 bytes: sorted keys, two-space indent, trailing newline. orjson writes the same text
    as json.dumps(indent=2, sort_keys=True, ensure_ascii=False) 10-20x faster (json's indented encoder is pure
    Python); json remains for what orjson refuses (integers past 64 bits, lone surrogates)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def dump(data) -> str:
    """dump_bytes as text."""
    return dump_bytes(data).decode("utf-8")
