"""FHIR REST API under /fhir (placeholder until the terminology service lands)."""

from flask import Blueprint


def init(app, index, config, prefix="/fhir"):
    bp = Blueprint("fhir", __name__)
    app.register_blueprint(bp, url_prefix=prefix)
