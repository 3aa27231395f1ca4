"""CapabilityStatement and TerminologyCapabilities, and the FHIR search the server supports."""

from fhir_ire import __version__
from fhir_ire.errors import InvalidRequest

RELEASE_DATE = "2026-11-23"
OP_DEFS = "http://hl7.org/fhir/OperationDefinition/"
TYPE_OPS = {
    "CodeSystem": ["lookup", "validate-code", "subsumes"],
    "ValueSet": ["expand", "validate-code", "batch-validate-code"],
    "ConceptMap": ["translate"],
}
SEARCH_PARAMS = ("url", "version", "name", "title", "status")
FEATURE = "http://hl7.org/fhir/uv/application-feature/StructureDefinition/feature"


def _feature(definition: str, value: dict) -> dict:
    return {"url": FEATURE, "extension": [{"url": "definition", "valueCanonical": definition},
                                           {"url": "value", **value}]}


def capability_statement(base: str, types: list[str]) -> dict:
    resources = []
    for rtype in sorted(set(types) | set(TYPE_OPS)):
        res = {"type": rtype, "interaction": [{"code": "read"}, {"code": "search-type"}],
               "searchParam": [{"name": n, "type": "uri" if n == "url" else "token" if n in ("version", "status")
                                else "string"} for n in SEARCH_PARAMS]}
        if rtype in TYPE_OPS:
            res["operation"] = [{"name": op, "definition": f"{OP_DEFS}{rtype}-{op}"} for op in TYPE_OPS[rtype]]
        resources.append(res)
    return {
        "resourceType": "CapabilityStatement", "id": "fhir-ire",
        "extension": [_feature("http://hl7.org/fhir/uv/tx-tests/FeatureDefinition/test-version", {"valueCode": "1.7.0"}),
                      _feature("http://hl7.org/fhir/uv/tx-ecosystem/FeatureDefinition/CodeSystemAsParameter",
                               {"valueBoolean": True})],
        "url": f"{base}/CapabilityStatement/fhir-ire", "version": __version__, "name": "FhirIreTerminologyServer",
        "title": "fhir-ire terminology and coverage-rules server", "status": "active", "date": RELEASE_DATE,
        "publisher": "fhir-ire", "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
        "software": {"name": "fhir-ire", "version": __version__, "releaseDate": RELEASE_DATE},
        "implementation": {"description": "fhir-ire FHIR R4 server", "url": base},
        "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
        "rest": [{"mode": "server", "resource": resources,
                  "operation": [{"name": "versions", "definition": f"{OP_DEFS}versions"}]}],
    }


def terminology_capabilities(codesystems: dict) -> dict:
    entries = []
    for url in sorted(codesystems):
        versions = [{"code": cs.version} for cs in codesystems[url] if cs.version]
        entry = {"uri": url}
        if versions:
            entry["version"] = versions
        entries.append(entry)
    params = ["activeOnly", "check-system-version", "count", "displayLanguage", "excludeNested",
              "force-system-version", "includeDefinition", "includeDesignations", "offset", "property",
              "system-version", "tx-resource", "filter"]
    return {"resourceType": "TerminologyCapabilities", "id": "fhir-ire", "version": __version__,
            "name": "FhirIreTerminologyCapabilities", "title": "fhir-ire terminology capabilities", "status": "active",
            "date": RELEASE_DATE, "kind": "instance", "codeSystem": entries,
            "expansion": {"hierarchical": False, "paging": True, "parameter": [{"name": p} for p in params]},
            "validateCode": {"translations": False}, "translation": {"needsMap": False}}


def search(resources: list[dict], args, base: str, rtype: str) -> dict:
    """A searchset Bundle of resources matching url, version, name, title, status; _count and _summary=count."""
    known = set(SEARCH_PARAMS) | {"_count", "_summary", "_format", "_offset"}
    unknown = sorted(set(args) - known)
    if unknown:
        raise InvalidRequest(f"Unknown search parameter(s) for {rtype}: {', '.join(unknown)}", code="not-supported")
    hits = resources
    for name in SEARCH_PARAMS:
        if name in args:
            value = args.get(name)
            if name in ("name", "title"):
                hits = [r for r in hits if str(r.get(name, "")).lower().startswith(value.lower())]
            else:
                hits = [r for r in hits if str(r.get(name, "")) == value]
    hits = sorted(hits, key=lambda r: r.get("id", ""))
    try:
        count = int(args.get("_count", 50))
        offset = int(args.get("_offset", 0))
    except ValueError:
        raise InvalidRequest("_count and _offset must be integers") from None
    if count < 0 or offset < 0 or count > 1000:
        raise InvalidRequest("_count must be between 0 and 1000, _offset >= 0")
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(hits)}
    query = "&".join(f"{k}={v}" for k, v in args.items(multi=True) if k not in ("_offset",))
    bundle["link"] = [{"relation": "self", "url": f"{base}/{rtype}?{query}"}]
    if args.get("_summary") == "count":
        return bundle
    page = hits[offset: offset + count]
    if offset + count < len(hits):
        bundle["link"].append({"relation": "next", "url": f"{base}/{rtype}?{query}&_offset={offset + count}"})
    bundle["entry"] = [{"fullUrl": f"{base}/{rtype}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                       for r in page]
    return bundle
