"""The build: documents -> facts -> checks -> resources -> bundles, as plain data (no files written here)."""

from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from fhir_ire.build import codesystem, conceptmap, coverage, guidance, ours, payment, provenance, questionnaire, valueset
from fhir_ire.build.bundle import SpooledBundle, transaction
from fhir_ire.build.context import BuildContext
from fhir_ire.build.parallel import map_in_processes
from fhir_ire.build.payers import build_organizations, collect_payers, names_index
from fhir_ire.checks import codes, consistency
from fhir_ire.checks.findings import Finding, to_operation_outcome
from fhir_ire.codesets.nucc import NuccTable
from fhir_ire.facts import DocumentFacts
from fhir_ire.checks.reading import check_reading
from fhir_ire.errors import BuildError
from fhir_ire.sources import read_sources
from fhir_ire.sources.manifest import MANIFEST, read_manifest
from fhir_ire.uris import DEFAULT_BASE

STALE_YEARS = 2


def check(documents: list[DocumentFacts], nucc: NuccTable, as_of: date) -> list[Finding]:
    return (codes.check_codes(documents, nucc) + consistency.check_descriptors(documents)
            + consistency.check_payments(documents, as_of, STALE_YEARS) + consistency.check_gaps(documents))


BUNDLES = ("01-sources", "02-terminology", "03-coverage", "04-provenance")


def build_resources(ctx: BuildContext, emit: Callable[[str, dict], None]) -> None:
    """Make every resource and hand it to emit(bundle name, resource) once it is complete, so that a spooled build
    holds no large resource longer than it takes to encode it. Provenance is made last, from the sources the other
    builders cited (ctx.sources) and the type and id of each resource."""
    for d in ctx.documents:
        emit("01-sources", provenance.build_document_reference(ctx, d))
    made: list[tuple[str, str]] = []  # (type, id) of every terminology and coverage resource, for Provenance

    def emit_made(name: str, resource: dict) -> None:
        made.append((resource["resourceType"], resource["id"]))
        emit(name, resource)

    codes = codesystem.collect_codes(ctx)
    icd = conceptmap.icd_targets(ctx)
    maps = conceptmap.build_conceptmaps(ctx, {c: codesystem.display_of(e) for c, e in codes.items()}, icd)
    nucc_map = next((m for m in maps if m["id"] == "cpt-to-nucc"), None)
    nucc_targets = {t["code"]: t.get("display") for g in (nucc_map or {}).get("group", [])
                    for e in g["element"] for t in e["target"]}
    for r in (codesystem.build_codesystems(ctx, codes, nucc_targets) + ours.build_our_codesystems(ctx)
              + valueset.modality_valuesets(ctx)
              + valueset.diagnosis_valuesets(ctx, icd) + valueset.contraindication_valuesets(ctx) + maps):
        emit_made("02-terminology", r)
    del codes, maps
    payers = collect_payers(ctx)
    names = names_index(payers)

    def emit_rule(rule: dict | None) -> None:
        if not rule:
            return
        forms, form_provenance = questionnaire.collect(ctx, [rule])  # DTR Questionnaires of the rule (CRD resp-38)
        for r in [rule] + forms:
            emit_made("03-coverage", r)
        for r in form_provenance:
            emit("04-provenance", r)

    for doc in ctx.documents:
        if doc.kind == "payer-policy":
            emit_rule(coverage.policy_rule(ctx, doc, payers, names))
    for rule in coverage.program_rules(ctx, payers) + [guidance.category_iii_rule(ctx), guidance.not_reported_with_rule(ctx),
                                                        guidance.diagnosis_rule(ctx, icd)] + guidance.contraindication_rules(ctx):
        emit_rule(rule)
    for r in build_organizations(ctx, payers) + payment.build_charge_items(ctx):
        emit_made("03-coverage", r)
    for r in provenance.build_provenance(ctx, made):
        emit("04-provenance", r)


def _drop_text(read: Callable[[Path], DocumentFacts], path: Path) -> DocumentFacts:
    """Read a document and hand back its facts without its bytes, which the build reads again when it writes them
    (BuildContext.content); a document left out or partly read keeps them for the reading checks, which quote its
    first line."""
    doc = read(path)
    if doc.status == "read":
        doc.content = b""
    return doc


def _read_without_text(read, paths: list[Path], jobs: int | None) -> list[DocumentFacts]:
    return map_in_processes(partial(_drop_text, read), paths, jobs=jobs)


def build(seeds: Path, nucc: NuccTable, as_of: date, base: str = DEFAULT_BASE, mapping_policy: str = "correct",
          jobs: int | None = None, spool: bool = False) -> tuple[dict, dict, list[DocumentFacts], list[Finding]]:
    """(bundles by file stem, QA OperationOutcome, every document (left out ones too), findings). Documents left out
    contribute nothing but their finding; the rest contribute what they say. jobs: processes reading the documents
    (None: every CPU for a large folder, parallel.default_jobs); the result is the same whatever the number. spool:
    bundles are SpooledBundles (entries encoded to a temporary file as they are made) rather than JSON data."""
    everything = read_sources(seeds, partial(_read_without_text, jobs=jobs))
    documents = [d for d in everything if not d.left_out]
    if not documents:
        raise BuildError("no document in the folder is a code report, reimbursement guide or payer policy", str(seeds))
    manifest = read_manifest(seeds)
    if manifest.entries and any(f.source.file == MANIFEST for d in documents for f in d.facts):
        documents.append(manifest.document())
    findings = check(documents, nucc, as_of) + check_reading(everything, set(manifest.entries))
    ctx = BuildContext(documents=documents, base=base, nucc=nucc, mapping_policy=mapping_policy, as_of=as_of,
                       findings=findings, folder=seeds)
    if spool:
        bundles = {name: SpooledBundle(name, base) for name in BUNDLES}
        build_resources(ctx, lambda name, resource: bundles[name].add(resource))
        for b in bundles.values():
            b.finish()
    else:
        groups: dict[str, list[dict]] = {name: [] for name in BUNDLES}
        build_resources(ctx, lambda name, resource: groups[name].append(resource))
        bundles = {name: transaction(name, resources, base) for name, resources in groups.items()}
    findings = sorted(set(ctx.findings), key=Finding.sort_key)
    return bundles, to_operation_outcome(findings, base), everything, findings
