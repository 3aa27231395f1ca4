"""Operation parameters from a GET query or a POST Parameters resource, with R4 and R5 names."""

from fhir_ire.errors import InvalidRequest

PRIMITIVE_KEYS = ("valueCode", "valueUri", "valueString", "valueCanonical", "valueUrl", "valueBoolean", "valueInteger",
                  "valueDateTime", "valueDate", "valueOid", "valueUuid", "valueId", "valueDecimal", "valueInstant",
                  "valueMarkdown", "valuePositiveInt", "valueUnsignedInt")


class Params:
    """Named values in request order. Primitive values are Python values; complex ones are dicts."""

    def __init__(self, items: list[tuple[str, object]], types: dict[int, str] | None = None):
        self.items = items
        self.types = types or {}  # position -> the value[x] key it came with

    def typed(self, name):
        """(value[x] key, value) pairs of a parameter, for echoing it back as it came."""
        out = []
        for i, (n, v) in enumerate(self.items):
            if n == name:
                key = self.types.get(i) or ("valueBoolean" if isinstance(v, bool) else "valueInteger"
                                            if isinstance(v, int) else "valueString")
                out.append((key, v))
        return out

    @classmethod
    def from_query(cls, pairs) -> "Params":
        """From a query's (name, value) pairs in order."""
        items = []
        for name, value in pairs:
            if name in ("coding", "codingA", "codingB", "sourceCoding", "targetCoding") and "|" in value:
                system, _, code = value.partition("|")
                value = {"system": system, "code": code}
            items.append((name, value))
        return cls(items)

    @classmethod
    def from_resource(cls, body) -> "Params":
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise InvalidRequest("The request body must be a FHIR Parameters resource")
        items, types = [], {}
        for p in body.get("parameter") or []:
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                raise InvalidRequest("Each Parameters.parameter needs a name")
            if "resource" in p:
                items.append((p["name"], p["resource"]))
            elif "part" in p:
                items.append((p["name"], {"part": p["part"]}))
            else:
                key = next((k for k in p if k.startswith("value")), None)
                if key:
                    types[len(items)] = key
                items.append((p["name"], p[key] if key else None))
        return cls(items, types)

    def all(self, *names) -> list:
        return [v for n, v in self.items if n in names]

    def texts(self, name) -> list[str]:
        """Every value of a repeatable primitive parameter (a coding where a code is expected is a 400)."""
        out = []
        for v in self.all(name):
            if isinstance(v, (dict, list)) or v is None:
                raise InvalidRequest(f"Parameter '{name}' must be a primitive value")
            out.append(str(v).lower() if isinstance(v, bool) else str(v))
        return out

    def get(self, *names, default=None):
        vals = self.all(*names)
        return vals[0] if vals else default

    def has(self, *names) -> bool:
        return any(n in names for n, _ in self.items)

    def text(self, *names) -> str | None:
        v = self.get(*names)
        if v is None:
            return None
        if isinstance(v, (dict, list)):
            raise InvalidRequest(f"Parameter '{names[0]}' must be a primitive value")
        return str(v).lower() if isinstance(v, bool) else str(v)

    def flag(self, *names, default=False) -> bool:
        v = self.get(*names)
        if v is None:
            return default
        if isinstance(v, bool):
            return v
        if str(v).lower() in ("true", "false"):
            return str(v).lower() == "true"
        raise InvalidRequest(f"Parameter '{names[0]}' must be a boolean, not '{v}'")

    def integer(self, name, default=None, minimum=0) -> int | None:
        v = self.get(name)
        if v is None:
            return default
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise InvalidRequest(f"Parameter '{name}' must be an integer, not '{v}'") from None
        if isinstance(v, bool) or n < minimum:
            raise InvalidRequest(f"Parameter '{name}' must be an integer >= {minimum}")
        return n

    def coding(self, *names) -> dict | None:
        v = self.get(*names)
        if v is not None:
            check_coding(v, names[0])
        return v

    def codeable_concept(self, name) -> dict | None:
        v = self.get(name)
        if v is None:
            return None
        if not isinstance(v, dict) or not isinstance(v.get("coding", []), list):
            raise InvalidRequest(f"Parameter '{name}' must be a CodeableConcept")
        for i, c in enumerate(v.get("coding", [])):
            check_coding(c, f"{name}.coding[{i}]")
        return v

    def resources(self, name="tx-resource") -> list[dict]:
        return [v for v in self.all(name) if isinstance(v, dict) and "resourceType" in v]


def check_coding(value, where: str) -> None:
    """A Coding is an object whose system, version, code and display are strings."""
    if not isinstance(value, dict) or any(not isinstance(value[k], str) for k in ("system", "version", "code", "display")
                                          if k in value):
        raise InvalidRequest(f"Parameter '{where}' must be a Coding (system, version, code and display are strings)")
