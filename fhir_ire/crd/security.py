"""CDS Hooks JWT checks: allow-listed issuers, their JWKS keys, asymmetric algorithms only, audience = the URL
called, exp/iat, and jti replay protection shared by every worker (SQLite file, or Redis when configured)."""

import json
import os
from contextlib import closing
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import jwt
import requests

from fhir_ire.errors import IreError

ALGORITHMS = ["ES384", "RS384", "ES256"]
LEEWAY = 30
MAX_NUMERIC_DATE = 2 ** 53  # seconds: far beyond any real expiry, within every integer store (SQLite, Redis)
RELOAD_AFTER = 60  # seconds: an unknown kid re-reads the issuer's JWKS (key rotation) at most this often


class AuthError(IreError):
    """A CDS Hooks call whose JWT is refused (answered 401)."""


class JtiStoreError(IreError):
    """The configured jti store cannot be used (a start-up configuration error)."""


def _load_jwks(source: str) -> dict:
    if source.startswith("https://"):
        r = requests.get(source, timeout=2)
        r.raise_for_status()
        return r.json()
    if source.startswith("http://"):
        raise AuthError("JWKS URLs must use https")
    return json.loads(Path(source).read_text())


def _is_numeric_date(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < MAX_NUMERIC_DATE


def check_claim_types(header: dict, claims: dict) -> None:
    """Claims of the wrong JSON type are a 401 before any key is looked up (a list as `iss`, `exp` beyond 2^53...)."""
    if not isinstance(header.get("kid", ""), str):
        raise AuthError("the token's kid is not a string")
    for name in ("iss", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise AuthError(f"the token's {name} claim is not a string")
    for name in ("exp", "iat", "nbf"):
        if name in claims and not _is_numeric_date(claims[name]):
            raise AuthError(f"the token's {name} claim is not a NumericDate")


class JtiStore:
    """Remembers each jti until its token expires; a jti seen again in that time is a replay."""

    def __init__(self, url: str | None):
        self.redis = None
        if url and url.startswith("redis://"):
            try:
                import redis  # optional dependency: pip install 'fhir-ire[redis]'
            except ImportError:
                raise JtiStoreError("a redis:// jti store needs the redis package: "
                                    "pip install 'fhir-ire[redis]'") from None
            self.redis = redis.Redis.from_url(url)
            return
        path = url[len("sqlite:///"):] if url and url.startswith("sqlite:///") else \
            os.path.join(tempfile.gettempdir(), "fhir-ire-jti.sqlite")
        self.path = path
        self.lock = threading.Lock()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS jti (id TEXT PRIMARY KEY, exp INTEGER NOT NULL)")

    def _db(self):
        return sqlite3.connect(self.path, timeout=5, isolation_level=None)

    def first_use(self, jti: str, exp: int) -> bool:
        ttl = max(1, exp - int(time.time()) + LEEWAY)
        if self.redis is not None:
            return bool(self.redis.set(f"fhir-ire:jti:{jti}", 1, nx=True, ex=ttl))
        with self.lock, closing(self._db()) as db:
            db.execute("DELETE FROM jti WHERE exp < ?", (int(time.time()) - LEEWAY,))
            try:  # the primary key makes the first insert win, whichever worker process it comes from
                db.execute("INSERT INTO jti (id, exp) VALUES (?, ?)", (jti, exp))
                return True
            except sqlite3.IntegrityError:
                return False


class JwtChecker:
    def __init__(self, trust: dict[str, str], jti_store: str | None):
        self.trust = trust
        self.keys: dict[str, dict] = {}
        self.store = JtiStore(jti_store)
        self.loaded_at: dict[str, float] = {}

    def _load(self, issuer: str) -> None:
        try:
            self.keys[issuer] = _load_jwks(self.trust[issuer])
        except (OSError, ValueError, requests.RequestException) as e:
            raise AuthError(f"cannot load the keys of issuer {issuer}: {type(e).__name__}") from None
        self.loaded_at[issuer] = time.monotonic()

    def _candidates(self, issuer: str, kid: str | None) -> list[dict]:
        return [k for k in self.keys[issuer].get("keys", []) if isinstance(k, dict) and (kid is None or
                                                                                          k.get("kid") == kid)]

    def _key(self, issuer: str, kid: str | None, alg: str):
        if issuer not in self.keys:
            self._load(issuer)
        candidates = self._candidates(issuer, kid)
        if not candidates and time.monotonic() - self.loaded_at.get(issuer, 0) > RELOAD_AFTER:
            self._load(issuer)  # the issuer may have rotated its keys
            candidates = self._candidates(issuer, kid)
        if not candidates:
            raise AuthError("no key of the issuer matches the token's kid")
        if candidates[0].get("alg") not in (None, alg):
            raise AuthError(f"the key {kid} is for {candidates[0]['alg']}, not {alg}")
        try:
            return jwt.PyJWK(candidates[0]).key
        except jwt.PyJWTError:
            raise AuthError("the issuer's key cannot be used") from None

    def check(self, authorization: str | None, audience: str) -> dict:
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("missing bearer token")
        token = authorization[len("Bearer "):].strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError(f"algorithm {str(header.get('alg'))[:20]!r} is not accepted (use {', '.join(ALGORITHMS)})")
        check_claim_types(header, unverified)
        issuer = unverified.get("iss")
        if issuer not in self.trust:
            raise AuthError("issuer is not trusted")
        try:
            claims = jwt.decode(token, self._key(issuer, header.get("kid"), header["alg"]), algorithms=ALGORITHMS, audience=audience,
                                issuer=issuer, leeway=LEEWAY, options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        except jwt.InvalidAudienceError:
            raise AuthError("audience does not match the URL called") from None
        except jwt.ExpiredSignatureError:
            raise AuthError("token has expired") from None
        except jwt.PyJWTError as e:
            raise AuthError(f"invalid token: {type(e).__name__}") from None
        if not self.store.first_use(claims["jti"], int(claims["exp"])):
            raise AuthError("token has been used before (jti replay)")
        return claims
