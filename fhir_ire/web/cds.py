"""CDS Hooks endpoints under /cds-services (placeholder until the CRD service lands)."""

from flask import Blueprint


def init(app, index, config, prefix="/cds-services"):
    bp = Blueprint("cds", __name__)
    app.register_blueprint(bp, url_prefix=prefix)
