"""The build: documents -> facts -> checks -> resources -> bundles, as plain data (no files written here)."""

from datetime import date
from functools import partial
from pathlib import Path

from fhir_ire.build import codesystem, conceptmap, coverage, guidance, ours, payment, provenance, questionnaire, valueset
from fhir_ire.build.bundle import transaction
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


def build_resources(ctx: BuildContext) -> dict[str, list[dict]]:
    """Resources grouped by the bundle they go in."""
    codes = codesystem.collect_codes(ctx)
    icd = conceptmap.icd_targets(ctx)
    maps = conceptmap.build_conceptmaps(ctx, {c: codesystem.display_of(e) for c, e in codes.items()}, icd)
    nucc_map = next((m for m in maps if m["id"] == "cpt-to-nucc"), None)
    nucc_targets = {t["code"]: t.get("display") for g in (nucc_map or {}).get("group", [])
                    for e in g["element"] for t in e["target"]}
    terminology = (codesystem.build_codesystems(ctx, codes, nucc_targets) + ours.build_our_codesystems(ctx)
                   + valueset.modality_valuesets(ctx)
                   + valueset.diagnosis_valuesets(ctx, icd) + valueset.contraindication_valuesets(ctx) + maps)
    payers = collect_payers(ctx)
    names = names_index(payers)
    rules = [r for doc in ctx.documents if doc.kind == "payer-policy"
             for r in [coverage.policy_rule(ctx, doc, payers, names)] if r]
    rules += coverage.program_rules(ctx, payers)
    rules += [r for r in (guidance.category_iii_rule(ctx), guidance.not_reported_with_rule(ctx),
                          guidance.diagnosis_rule(ctx, icd)) if r]
    rules += guidance.contraindication_rules(ctx)
    forms, form_provenance = questionnaire.collect(ctx, rules)  # DTR Questionnaires of the rules (CRD resp-38)
    rules_bundle = build_organizations(ctx, payers) + rules + forms + payment.build_charge_items(ctx)
    sources = [provenance.build_document_reference(ctx, d) for d in ctx.documents]
    return {"01-sources": sources, "02-terminology": terminology, "03-coverage": rules_bundle,
            "04-provenance": provenance.build_provenance(ctx, terminology + rules_bundle) + form_provenance}


def build(seeds: Path, nucc: NuccTable, as_of: date, base: str = DEFAULT_BASE, mapping_policy: str = "correct",
          jobs: int | None = None) -> tuple[dict[str, dict], dict, list[DocumentFacts], list[Finding]]:
    """(bundles by file stem, QA OperationOutcome, every document (left out ones too), findings). Documents left out
    contribute nothing but their finding; the rest contribute what they say. jobs: processes reading the documents
    (None: every CPU for a large folder, parallel.default_jobs); the result is the same whatever the number."""
    everything = read_sources(seeds, partial(map_in_processes, jobs=jobs))
    documents = [d for d in everything if not d.left_out]
    if not documents:
        raise BuildError("no document in the folder is a code report, reimbursement guide or payer policy", str(seeds))
    manifest = read_manifest(seeds)
    if manifest.entries and any(f.source.file == MANIFEST for d in documents for f in d.facts):
        documents.append(manifest.document())
    findings = check(documents, nucc, as_of) + check_reading(everything, set(manifest.entries))
    ctx = BuildContext(documents=documents, base=base, nucc=nucc, mapping_policy=mapping_policy, as_of=as_of,
                       findings=findings)
    groups = build_resources(ctx)
    findings = sorted(set(ctx.findings), key=Finding.sort_key)
    bundles = {name: transaction(name, resources, base) for name, resources in groups.items()}
    return bundles, to_operation_outcome(findings, base), everything, findings
