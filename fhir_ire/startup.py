"""Start-up checks of `fhir-ire serve`: a configuration that cannot work is refused with one line before anything
is loaded or any worker starts (TLS files, JWKS sources, the jti store, the port)."""

import errno
import json
import socket
import sqlite3
import ssl
from pathlib import Path

from fhir_ire.config import ConfigError, is_url, mask_urls
from fhir_ire.errors import IreError

JTI_SCHEMES = ("sqlite:///", "redis://", "rediss://")
PKCS8_HEADERS = (b"-----BEGIN PRIVATE KEY-----", b"-----BEGIN ENCRYPTED PRIVATE KEY-----")


def check(config: dict) -> None:
    check_tls(config.get("CERTFILE"), config.get("KEYFILE"), config.get("KEYFILE_PASSWORD"))
    for issuer, jwks in (config.get("TRUST") or {}).items():
        check_jwks(issuer, jwks)
    check_jti_store(config.get("JTI_STORE"))
    check_audit_store(config.get("AUDIT_STORE"))


def check_tls(certfile: str | None, keyfile: str | None, password: str | None) -> None:
    if not certfile and not keyfile:
        return
    if not (certfile and keyfile):
        raise ConfigError("TLS needs both --certfile and --keyfile")
    try:
        key = Path(keyfile).read_bytes()
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile, password)
    except OSError as e:
        raise ConfigError(f"cannot use the TLS certificate {certfile} with the key {keyfile}: "
                          f"{e.strerror or e.args[-1]}") from None
    if not key.lstrip().startswith(PKCS8_HEADERS):  # the server (granian) reads PKCS#8 keys only
        raise ConfigError(f"{keyfile}: the key must be PKCS#8 ('BEGIN PRIVATE KEY'); convert it with "
                          f"'openssl pkcs8 -topk8 -nocrypt -in {keyfile} -out key-pkcs8.pem'")


def check_jwks(issuer: str, source: str) -> None:
    if is_url(source):
        if not source.startswith("https://"):
            raise ConfigError(f"--trust {issuer}: the JWKS URL {source} must use https")
        return  # fetched when the first token of this issuer arrives (and again on key rotation)
    try:
        keys = json.loads(Path(source).read_text(encoding="utf-8")).get("keys")
    except OSError as e:
        raise ConfigError(f"--trust {issuer}: cannot read the JWKS file {source}: {e.strerror}") from None
    except (ValueError, AttributeError):
        raise ConfigError(f"--trust {issuer}: {source} is not a JWKS (JSON with a 'keys' array)") from None
    if not isinstance(keys, list) or not keys:
        raise ConfigError(f"--trust {issuer}: {source} is not a JWKS (JSON with a non-empty 'keys' array)")


def check_jti_store(url: str | None) -> None:
    if url is None:
        return
    if not url.startswith(JTI_SCHEMES):
        raise ConfigError(f"--jti-store {url.split('://')[0]}://...: unknown store (use sqlite:///PATH or "
                          "redis://HOST:PORT/DB)")
    from fhir_ire.crd.security import JtiStore

    try:
        store = JtiStore(url)
        if store.redis is not None:
            store.redis.ping()
    except (IreError, sqlite3.Error, OSError) as e:
        raise ConfigError(f"--jti-store: cannot use {mask_urls(url)}: {e}") from None
    except Exception as e:  # noqa: BLE001 - redis raises its own hierarchy; any failure means unusable
        if type(e).__module__.split(".")[0] != "redis":
            raise
        raise ConfigError(f"--jti-store: cannot use {mask_urls(url)}: {type(e).__name__}: {e}") from None


def check_audit_store(url: str | None) -> None:
    """The CRD audit store opens and has its tables (an answer whose record cannot be kept is never given)."""
    from fhir_ire.crd.audit import AuditError, AuditStore

    try:
        AuditStore(url).check()
    except AuditError as e:
        raise ConfigError(f"--audit-store: {mask_urls(str(e))}") from None


def reserve_port(host: str, port: int) -> tuple[socket.socket, str]:
    """Bind host:port without SO_REUSEPORT, so that a port another server listens on (even one that shares its
    port) is refused with one line instead of being shared. Returns the socket, which the caller closes just
    before serving, and the IP address the host name resolves to (the server binds addresses, not names)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise ConfigError(f"--host {host}: cannot resolve: {e.strerror}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are fine; listeners are not
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use by another process; stop it or choose "
                              "another --port") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    return sock, address[0]
