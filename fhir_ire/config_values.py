"""Configuration value parsers: each turns one value as given (flag, variable or TOML) into a typed value, or
raises ValueError with a short reason that `fhir_ire.config` words as one line. `base` is the folder relative paths
are taken from (the working folder, or the TOML file's folder).
"""

import os
import re
from pathlib import Path
from typing import Callable


def text(value: str, base: Path) -> str:
    return value


def path(text: str, base: Path) -> str:
    return str((base / os.path.expanduser(text)).resolve())


def port(text: str, base: Path) -> int:
    value = integer(text, base)
    if not 0 <= value <= 65535:
        raise ValueError("not a port number (0-65535)")
    return value


def integer(text: str, base: Path) -> int:
    try:
        if isinstance(text, (bool, float)):
            raise ValueError
        return int(text)
    except ValueError:
        raise ValueError("not a whole number") from None


def number(text: str, base: Path) -> float:
    try:
        if isinstance(text, bool):
            raise ValueError
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if value < 0:
        raise ValueError("cannot be negative")
    return value


def positive(text: str, base: Path) -> int:
    value = integer(text, base)
    if value < 1:
        raise ValueError("must be 1 or more")
    return value


def choice(*values: str) -> Callable[[str, Path], str]:
    def parse(text: str, base: Path) -> str:
        if text not in values:
            raise ValueError(f"must be one of {', '.join(values)}")
        return text
    return parse


def is_url(text: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text))


def issuer_keys(text: str, base: Path) -> tuple[str, str]:
    """ISSUER=JWKS (the JWKS a file path or an https URL); the last '=' splits, as issuers are URLs."""
    issuer, sep, jwks = text.rpartition("=")
    if not sep or not issuer or not jwks:
        raise ValueError("needs ISSUER=JWKS")
    return issuer, jwks if is_url(jwks) else path(jwks, base)


def origin(text: str, base: Path) -> str:
    text = text.strip().rstrip("/")
    if text != "*" and not re.match(r"^https?://[^/?#\s]+$", text):
        raise ValueError("must be * or an origin such as https://app.example.org (scheme, host, optional port)")
    return text


def url(text: str, base: Path) -> str:
    if not is_url(text):
        raise ValueError("must be a URL")
    return text.rstrip("/")


def boolean(value, base: Path = Path()) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")
