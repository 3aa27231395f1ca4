"""Facts to FHIR R4 resources, and the bundle writer."""
