"""fhir-ire: documents about tumor ablation procedures turned into FHIR R4 knowledge, and served."""

__version__ = "0.1.0"


def create_app(config=None):
    """Build the Flask app (imported lazily so the build never pulls in the web layer)."""
    from fhir_ire.app import create_app as _create_app

    return _create_app(config)
