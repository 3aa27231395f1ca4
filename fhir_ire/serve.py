"""`fhir-ire serve`: the app under granian, a production WSGI server chosen by measurement (SPEC §6: ~10,000 req/s
against ~3,950 for gunicorn on 2 cores with 2 workers). Granian also supervises the workers: a worker that dies is
replaced and the event logged; SIGTERM drains the workers and exits 0 (docs/operations.md).

The app is built once in the main process, before the workers are forked, so that the bundles, the code systems
and the compiled rules are loaded once and their memory pages are shared by every worker."""

import gc
import json
import logging
import os
import signal
import ssl
import threading
import time
import urllib.request
from pathlib import Path

from fhir_ire import config as options
from fhir_ire import logs, startup
from fhir_ire.errors import BundleError, IreError
from fhir_ire.store import load_bundles
from fhir_ire.terminology import textindex

WORKER_CONFIG_ENV = "_FHIR_IRE_WORKER_CONFIG"  # the resolved config, for workers started without fork
log = logging.getLogger("fhir_ire.serve")
_preloaded = None


def add_arguments(p):
    options.add_arguments(p)


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
STOP_REPEAT = 0.25  # seconds between two looks for a new handler to give a received stop to (_forward)
_forwarding = None  # the process that forwards its stop signals (a forked worker starts its own thread)


def forward_stop_signals() -> None:
    """Make SIGINT and SIGTERM reach this process's handler, whichever of its threads the kernel gives them to.

    Python runs a signal's handler in the main thread, and only when that thread runs Python code. Granian's main
    process and its workers wait in the main thread on a lock (threading.Event.wait) that a signal given to
    another thread (a request thread, granian's own, a worker watcher) does not interrupt: the signal was noted and
    never handled, so a worker kept serving after SIGTERM until the drain timeout killed it, and the server did not
    stop at all when the main process's signal went to another thread (tests/hardening/test_signals.py). Here the
    two signals are blocked in the calling thread, whose mask every thread it starts (and a fork of it) inherits,
    and one thread waits for them and calls the handler installed for them (granian's: it only sets an event)."""
    global _forwarding
    if _forwarding == os.getpid():
        return
    _forwarding = os.getpid()
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    threading.Thread(target=_forward, name="fhir-ire-stop-signals", daemon=True).start()


def _forward() -> None:
    """Wait for a stop signal, then give it to the handler in place, and to each other handler put in place later
    until the process ends, once each (a second stop is a forced one for granian's worker). Given once, a stop was
    lost by a worker forked as the signal arrived: it still had its parent's handler, its own being installed after
    its app is loaded, and it served on until the drain timeout (tests/hardening/test_signals.py)."""
    sig, given = signal.sigwait(STOP_SIGNALS), []
    while True:
        handler = signal.getsignal(sig)
        if handler is signal.SIG_IGN:
            sig = signal.sigwait(STOP_SIGNALS)
            continue
        if not callable(handler) or handler is signal.default_int_handler:  # not the server's yet: as by default
            os._exit(128 + sig)
        if handler not in given:
            given.append(handler)
            try:
                handler(sig, None)
            except Exception:  # noqa: BLE001 - a handler that fails is logged; a later one is still given the stop
                log.exception("stop signal handler failed")
        time.sleep(STOP_REPEAT)


def app_from_env():
    """The WSGI app factory each worker calls: the app built before fork, or one built from the configuration
    (`granian --factory fhir_ire.serve:app_from_env` with FHIR_IRE_* variables works too). Under `fhir-ire serve`
    the worker's stop signals are forwarded to its handler (forward_stop_signals)."""
    if WORKER_CONFIG_ENV in os.environ:
        forward_stop_signals()
    if _preloaded is not None:
        return _preloaded
    from fhir_ire.app import create_app

    raw = os.environ.get(WORKER_CONFIG_ENV)
    return create_app(json.loads(raw) if raw else options.resolve().config)


def build_app(config: dict, factory=None):
    """The app (or what factory makes of the config), or one line saying why it cannot start."""
    from fhir_ire.app import create_app

    try:
        return (factory or create_app)(config)
    except IreError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:  # a resource the engine cannot use
        raise IreError(f"cannot start with the bundles in {config['BUNDLES']}: {type(e).__name__}: "
                       f"{logs.escape(e, 300)}") from None


def base_url(config: dict, local: bool = False) -> str:
    host = config["HOST"]
    if local:  # where this machine reaches the server itself
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if config.get('CERTFILE') else 'http'}://{host}:{config['PORT']}"


def announce_when_ready(config: dict, index, timeout: float = 120.0) -> None:
    """Log the ready line once a worker answers /health/ready (polled from the main process)."""
    url = base_url(config, local=True) + "/health/ready"
    context = ssl._create_unverified_context() if config.get("CERTFILE") else None  # our own certificate
    counts = ", ".join(f"{t} {len(index.by_type[t])}" for t in index.types())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            probe = urllib.request.Request(url, headers={"X-Request-ID": "ready-probe"})
            with urllib.request.urlopen(probe, timeout=1, context=context) as r:
                if r.status == 200:
                    log.info("ready at %s (%d workers): %d bundles from %s, %d resources (%s)", base_url(config),
                             config["WORKERS"], len(index.sources), config["BUNDLES"],
                             sum(len(index.by_type[t]) for t in index.types()), counts, extra={"event": "ready"})
                    return
        except OSError:
            pass
        time.sleep(0.05)
    log.error("no worker answered %s within %.0f s", url, timeout)


def granian_settings(config: dict, address: str) -> dict:
    """How granian serves a WSGI app for `fhir-ire serve`; the ceiling benchmark (benchmarks/ceiling.py) serves its
    bare Flask app with the same settings, so that the two are compared on equal terms."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    tls = {"ssl_cert": Path(config["CERTFILE"]), "ssl_key": Path(config["KEYFILE"]),
           "ssl_key_password": config.get("KEYFILE_PASSWORD"), "ssl_protocol_min": "tls1.2"} \
        if config.get("CERTFILE") else {}
    # granian's backpressure bounds the connections a worker holds open (idle keep-alive ones count too), and each
    # may have a thread for its request: a request whose body is still arriving waits in its own thread, and only
    # THREADS requests work at once (web/admission.py). hyper restarts the header timeout whenever a connection
    # falls idle, so it also closes idle keep-alive connections; HTTP/1 only, as the HTTP/2-sniffing mode waits for
    # a silent connection's first bytes forever.
    return {"address": address, "port": config["PORT"], "http": HTTPModes.http1, "interface": Interfaces.WSGI,
            "workers": config["WORKERS"], "log_access": False, "respawn_failed_workers": True,
            "workers_kill_timeout": config["DRAIN_TIMEOUT"], "backpressure": config["MAX_CONNECTIONS"],
            "blocking_threads": config["MAX_CONNECTIONS"],
            "http1_settings": HTTP1Settings(header_read_timeout=config["HEADER_TIMEOUT"] * 1000), **tls}


def run(args) -> int:
    global _preloaded
    resolved = options.resolve(args)
    config = resolved.config
    log_config = logs.configure(config["LOG_FORMAT"], config["LOG_LEVEL"])
    for name in resolved.unknown:
        log.warning("%s names no option; ignored (see fhir-ire config)", name)
    startup.check(config)
    reserved, address = startup.reserve_port(config["HOST"], config["PORT"])
    try:
        if config["PRELOAD"]:
            _preloaded = build_app(config)
            index = _preloaded.extensions["fhir_ire.index"]
            textindex.finish_builds()  # the word indexes built here once, not in a thread that fork() leaves behind
            gc.freeze()  # keep the collector from touching (and so copying) the preloaded objects in every worker
        else:  # each worker builds its own app; here the bundles are read and the rules compiled, to refuse bad
            index = load_bundles(config["BUNDLES"])  # ones with one line rather than in every worker
            if not index.sources and not config["ALLOW_EMPTY"]:
                raise BundleError(f"{config['BUNDLES']}: no Bundle to serve (build first, or --allow-empty)")
            from fhir_ire.crd.rules import RuleIndex

            build_app(config, lambda _: RuleIndex(index))
    finally:
        reserved.close()
    os.environ[WORKER_CONFIG_ENV] = json.dumps(config)
    forward_stop_signals()  # before any thread is started here or in granian, and before the workers are forked
    from granian import Granian

    server = Granian("fhir_ire.serve:app_from_env", factory=True, log_dictconfig=log_config,
                     log_level=config["LOG_LEVEL"], **granian_settings(config, address))
    # granian warns when its thread cap passes 2 x cores + 1; here the cap is per connection and the app's own
    # permits bound the threads working at once
    logging.getLogger("_granian").addFilter(lambda record: "Python threads" not in record.getMessage())
    threading.Thread(target=announce_when_ready, args=(config, index), daemon=True).start()
    server.serve()
    log.info("stopped", extra={"event": "stopped"})
    return 0
