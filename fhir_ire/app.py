"""The Flask application factory, and mount() for host apps that want our blueprints under a prefix.

Configuration keys (a plain dict; all optional):
  BUNDLES      folder of Bundle files to serve (default "bundles")
  NUCC         path of the NUCC taxonomy CSV (full NUCC code system beside our fragments)
  BASE_URL     public base URL for deployments behind a proxy (CDS Hooks JWT `aud`)
  TRUST        {issuer: jwks path or https URL} turns on CDS Hooks JWT checks
  FHIR_SERVERS allow-list of FHIR server origins the CRD service may query for missing prefetch
  JTI_STORE    "sqlite:///path" (default, in the temp folder) or "redis://..." for replay checks
  INDEX        an already loaded ResourceIndex (tests, or a host that loads once for many apps)
  LIMITS       {name: value} request limits and time budget (fhir_ire.web.limits.Limits has names and defaults)
"""

import logging

from flask import Flask, jsonify

from fhir_ire.store import load_bundles

log = logging.getLogger("fhir_ire")


def mount(app: Flask, config: dict | None = None, prefix: str = "") -> None:
    """Load the bundles once and register our blueprints on a (host) Flask app under prefix."""
    from fhir_ire.web import cds, fhir, guard, ui

    config = dict(config or {})
    guard.init(app, config, prefix)  # limits, time budget and JSON errors on every route of ours
    index = config.get("INDEX") or load_bundles(config.get("BUNDLES", "bundles"))
    app.extensions["fhir_ire.index"] = index
    app.extensions["fhir_ire.config"] = config
    fhir.init(app, index, config, prefix=prefix + "/fhir")
    cds.init(app, index, config, prefix=prefix + "/cds-services")
    ui.init(app, index, config, prefix=prefix + "/ui", root=prefix)

    @app.get(prefix + "/health", endpoint="fhir_ire_health")
    def health():
        return jsonify(status="ok", bundles=index.sources,
                       resources={t: len(index.by_type[t]) for t in index.types()})


def create_app(config: dict | None = None) -> Flask:
    app = Flask("fhir_ire")
    app.json.sort_keys = False
    app.extensions["fhir_ire.standalone"] = True  # every path is ours: JSON errors everywhere
    mount(app, config)
    return app
