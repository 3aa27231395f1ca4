"""Authoritative code sets: ICD-10-CM (simple-icd-10-cm) and the NUCC provider taxonomy (CSV)."""
