"""DocumentReference per source document, and Provenance linking each derived resource to the quotes it came from."""

import base64
import hashlib

from fhir_ire.build.context import BuildContext
from fhir_ire.facts import DocumentFacts

KINDS = {"code-report": "Code report", "reimbursement-guide": "Reimbursement guide", "payer-policy": "Payer coverage policy",
         "source-manifest": "Source manifest"}


def _ni_sha256(hex_digest: str) -> str:
    """RFC 6920 named-information URI of a SHA-256 digest."""
    return "ni:///sha-256;" + base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode().rstrip("=")


def fhir_id(text: str) -> str:
    """FHIR ids are at most 64 characters: long ones keep a readable head and a hash of the whole."""
    return text if len(text) <= 64 else f"{text[:55].rstrip('-')}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def build_document_reference(ctx: BuildContext, doc: DocumentFacts) -> dict:
    """The document with its text inline (attachment.data), so a server that reads only bundles can show the quoted
    lines; the sha256 identifier is the hash of exactly these bytes."""
    attachment = {"contentType": "text/plain; charset=utf-8", "url": f"seeds/{doc.file}", "size": doc.size,
                  "title": doc.title}
    content = ctx.content(doc.file)
    if content:
        attachment["data"] = base64.b64encode(content).decode("ascii")
    ref = {"resourceType": "DocumentReference", "id": ctx.doc_id(doc.file), "status": "current",
           "identifier": [{"system": "urn:ietf:rfc:6920", "value": _ni_sha256(doc.sha256)}],
           "type": {"text": KINDS[doc.kind]}, "description": doc.title, "content": [{"attachment": attachment}]}
    return _with_manifest(ref, doc.manifest)


def _with_manifest(ref: dict, entry: dict) -> dict:
    """What the source manifest says of a document: where it was published (a second content entry pointing at the
    address), when it was retrieved (date), who keeps it (custodian: the payer) and who published it (author)."""
    if entry.get("address"):
        ref["content"].append({"attachment": {"contentType": "text/html", "url": entry["address"],
                                              "title": "Published at"}})
    if entry.get("retrieved"):
        ref["date"] = f"{entry['retrieved']}T00:00:00Z"
    if entry.get("payer"):
        ref["custodian"] = {"display": entry["payer"]}
    if entry.get("publisher"):
        ref["author"] = [{"display": entry["publisher"]}]
    return ref


def build_provenance(ctx: BuildContext, made: list[tuple[str, str]]):
    """One Provenance per resource (type, id) that cites sources, made one at a time."""
    for rtype, rid in made:
        key = f"{rtype}/{rid}"
        sources = ctx.sources.get(key)
        if not sources:
            continue
        entities = []
        for s in sorted(set(sources), key=lambda s: (s.file, s.line, s.end_line, s.quote)):
            entities.append({"role": "source", "what": {
                "reference": f"DocumentReference/{ctx.doc_id(s.file)}",
                "display": f"{s.cite()}: \"{s.quote[:900]}\""}})
        yield {"resourceType": "Provenance", "id": fhir_id(f"prov-{rtype.lower()}-{rid}"),
               "target": [{"reference": key}], "recorded": ctx.recorded,
               "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                        "code": "CREATE"}]},
               "agent": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                               "code": "assembler"}]},
                          "who": {"display": "fhir-ire build"}}],
               "entity": entities}
