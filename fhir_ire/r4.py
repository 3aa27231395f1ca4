"""The one place that imports fhir.resources: R4B classes (identical to R4 for our resources) and dump()."""

import json

from fhir.resources.R4B import get_fhir_model_class


def model_class(resource_type: str):
    return get_fhir_model_class(resource_type)


def validate(resource: dict) -> None:
    """Parse a resource dict with the R4B model; raises pydantic.ValidationError when invalid."""
    model_class(resource["resourceType"]).model_validate(resource)


def dump(data) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, UTF-8, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
