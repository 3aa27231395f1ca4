"""The limits that keep a 2-core server answering under hostile input, with their defaults: one place for the web
layer (body, JSON, hook size), the time budget and the CRD engine's reads from an EHR's FHIR server. Each is a
key of the LIMITS configuration entry and a `fhir-ire serve` flag (--max-body-bytes ...)."""

from dataclasses import dataclass, fields

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 2 * MiB            # any request body
    max_json_depth: int = 64                 # nesting of arrays and objects
    max_number_length: int = 64              # characters of one JSON number
    max_orders: int = 50                     # orders (draft, dispatched, appointments) in one hook call
    max_prefetch_resources: int = 1000       # resources in the prefetch of one hook call
    time_budget: float = 10.0                # seconds of work per request (0: none)
    fhir_server_max_bytes: int = 5 * MiB     # one response read from an EHR's FHIR server
    fhir_server_timeout: float = 2.0         # seconds for one response from it, slow drips included
    max_expansion: int = 1000                # concepts in one $expand answer (a larger count or no count: 422)
    max_expansion_work: int = 50000          # concepts examined to evaluate the value sets of one request

    @classmethod
    def from_config(cls, config: dict) -> "Limits":
        given = config.get("LIMITS") or {}
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
        return cls(**{f.name: f.type(given[f.name]) if f.type in (int, float) else given[f.name]
                      for f in fields(cls) if given.get(f.name) is not None})


HELP = {
    "max_body_bytes": "largest request body in bytes (413 above it)",
    "max_json_depth": "deepest nesting of JSON arrays and objects in a request (400 above it)",
    "max_number_length": "longest JSON number in characters (400 above it)",
    "max_orders": "most orders in one CDS Hooks call (422 above it)",
    "max_prefetch_resources": "most prefetched resources in one CDS Hooks call (422 above it)",
    "time_budget": "seconds of work per request before it stops and answers 422 too-costly (0: no budget)",
    "fhir_server_max_bytes": "largest response read from an EHR's FHIR server in bytes",
    "fhir_server_timeout": "seconds allowed for one response from an EHR's FHIR server, slow drips included",
    "max_expansion": "most concepts in one $expand answer (422 too-costly above it: page with count and offset)",
    "max_expansion_work": "most concepts examined to evaluate the value sets of one terminology request (422 above it)",
}
