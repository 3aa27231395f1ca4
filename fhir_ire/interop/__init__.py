"""Talking to other FHIR servers: a REST client with retries, and the bundle loader behind `fhir-ire load`."""
