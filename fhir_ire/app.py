"""The Flask application factory, and mount() for host apps that want our blueprints under a prefix.

The configuration is a dict whose keys are the `Option.key`s of fhir_ire/config.py (BUNDLES, NUCC, TRUST, ...);
keys left out take the table's defaults. Two keys exist only here:
  INDEX        an already loaded ResourceIndex (tests, or a host that loads once for many apps)
  CONFIG_FILE  the TOML file the config came from: relative paths are taken from its folder
"""

import logging
from pathlib import Path

from flask import Flask, Request
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property

from fhir_ire import config as options
from fhir_ire.errors import BundleError, IreError
from fhir_ire.logs import AccessLog
from fhir_ire.store import load_bundles
from fhir_ire.web.admission import Admission
from fhir_ire.web.direct import Direct, DirectHook
from fhir_ire.web.kept import Kept

log = logging.getLogger("fhir_ire")
PATH_KEYS = ("BUNDLES", "NUCC", "CERTFILE", "KEYFILE")


class MountError(IreError):
    """mount() called in a way that cannot work (mounted twice with another prefix or configuration)."""


def app_config(config: dict | str | Path | None, root: str | Path) -> dict:
    """The full config: a TOML file's settings, or the caller's dict over the defaults. Relative paths are taken
    from the file's folder, or from root (the host app's root path) for a dict."""
    if isinstance(config, (str, Path)):
        file = Path(config).resolve()
        resolved = options.resolve(environ={options.FILE_ENV: str(file)}, cwd=file.parent).config
        return {**resolved, "CONFIG_FILE": str(file)}
    merged = {**options.defaults(), **(config or {})}
    base = Path(merged.get("CONFIG_FILE") or Path(root) / "x").parent
    for key in PATH_KEYS:
        if merged.get(key):
            merged[key] = str((base / Path(merged[key]).expanduser()).resolve())
    if "INDEX" not in (config or {}) and not (config or {}).get("BUNDLES"):
        merged["BUNDLES"] = str((base / "bundles").resolve())
    return merged


def mount(app: Flask, config: dict | str | Path | None = None, prefix: str = "", *,
          root: str | Path | None = None) -> None:
    """Load the bundles once and register our blueprints on a (host) Flask app under prefix.

    Our error handlers act only under our prefixes; the host's own handlers keep working elsewhere. Mounting again
    with the same prefix and configuration does nothing; anything else raises MountError. Relative paths in a dict
    config are taken from root (default: the host app's root_path, where its own config lives)."""
    from fhir_ire.web import cds, fhir, guard, openapi, service, ui

    prefix = prefix.rstrip("/")
    config = app_config(config, root or app.root_path)
    mounted = app.extensions.get("fhir_ire.mounted")
    if mounted is not None:
        if mounted == (prefix, _comparable(config)):
            return
        raise MountError(f"fhir-ire is already mounted on this app at '{mounted[0] or '/'}'; mount it once "
                         "(create_app() gives a separate app)")
    index = config.get("INDEX") or load_bundles(config["BUNDLES"])
    if not index.sources and not config.get("ALLOW_EMPTY"):
        raise BundleError(f"{config.get('BUNDLES')}: no Bundle to serve (build first, or allow an empty folder "
                          "with --allow-empty)")
    app.extensions["fhir_ire.mounted"] = (prefix, _comparable(config))
    app.extensions["fhir_ire.index"] = index
    app.extensions["fhir_ire.config"] = config
    guard.init(app, config, prefix)  # limits, time budget and JSON errors on every route of ours
    fhir.init(app, index, config, prefix=prefix + "/fhir")
    cds.init(app, index, config, prefix=prefix + "/cds-services")
    openapi.init(app, app.extensions["fhir_ire.crd"], prefix)
    ui.init(app, index, config, prefix=prefix + "/ui", root=prefix)
    app.register_blueprint(service.health(index), url_prefix=prefix or None)
    ours = [prefix + "/fhir", prefix + "/cds-services", prefix + "/health"]
    service.install_negotiation(app, prefix + "/fhir", service.outcome_406)
    service.install_cors(app, list(config.get("CORS_ORIGIN") or []), ours)


def _comparable(config: dict) -> str:
    return repr(sorted((k, repr(v)) for k, v in config.items() if k != "INDEX"))


class _Request(Request):
    """Flask's request, whose query, when it is not UTF-8 (raw bytes a client sent unescaped), is a 400 where it is
    first read rather than a UnicodeDecodeError (a 500)."""

    @cached_property
    def args(self):
        try:
            return super().args
        except UnicodeDecodeError:
            raise BadRequest("The query string is not UTF-8: percent-encode its bytes") from None


class _SyncCache(dict):
    """Flask's ensure_sync, remembered per function: Flask asks it of every hook and view on every request, and
    each answer inspects the function (our hooks and views are plain functions; an async one is still wrapped)."""

    def __init__(self, ensure_sync):
        super().__init__()
        self.ensure_sync = ensure_sync

    def __call__(self, func):
        try:
            return self[func]
        except KeyError:
            if len(self) >= 1024:  # functions made on the fly are not kept forever
                self.clear()
            done = self[func] = self.ensure_sync(func)
            return done
        except TypeError:  # an unhashable callable
            return self.ensure_sync(func)


def create_app(config: dict | str | Path | None = None) -> Flask:
    """The service as its own app: our blueprints at the root, an access log line and X-Request-ID per request,
    reads and searches already answered once answered again before Flask (web/kept.py), every other request
    admitted (its body in, then a permit: web/admission.py), and plain GETs of the terminology operations and CDS
    Hooks service calls answered before Flask by the routes' own functions (web/direct.py)."""
    app = Flask("fhir_ire")
    app.request_class = _Request
    app.ensure_sync = _SyncCache(app.ensure_sync)
    app.json.sort_keys = False
    app.extensions["fhir_ire.standalone"] = True  # every path is ours: JSON errors everywhere
    mount(app, config, root=Path.cwd())
    ext = app.extensions
    inner = Direct(app.wsgi_app, *ext["fhir_ire.operations"], ext["fhir_ire.admission"])
    inner = DirectHook(inner, ext["fhir_ire.hook_calls"], ext["fhir_ire.admission"],
                       ext["fhir_ire.limits"].max_body_bytes, app.config)
    if ext["fhir_ire.permits"] is not None:  # the body in, then a permit, then the rest (web/admission.py)
        inner = Admission(inner, ext["fhir_ire.permits"], ext["fhir_ire.limits"].max_body_bytes)
    app.wsgi_app = AccessLog(Kept(inner, ext["fhir_ire.kept_reads"], ext["fhir_ire.kept_searches"]))
    return app
