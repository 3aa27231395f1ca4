"""Checking facts: against ICD-10-CM and NUCC, and across sources (conflicts, stale figures, damaged tables)."""

from fhir_ire.checks.findings import Finding, to_operation_outcome  # noqa: F401
