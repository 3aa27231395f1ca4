"""Server configuration: one declarative table of options, read from flags, then `FHIR_IRE_*` environment
variables, then an optional TOML file, then the defaults (first found wins).

To add an option, add one `Option` row to OPTIONS: it becomes the flag `--NAME`, the variable
`FHIR_IRE_NAME` (upper case, `-` as `_`), the TOML key `NAME`, a line of `fhir-ire config`, and the app
config key `Option.key` that `create_app(config)` and the blueprints read.
"""

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from fhir_ire.config_values import (  # noqa: F401  (re-exported: the table's parsers)
    boolean, choice, integer, is_url, issuer_keys, number, origin, path, port, positive, text, url)
from fhir_ire.errors import IreError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "FHIR_IRE_"
FILE_ENV = "FHIR_IRE_CONFIG"
MASK = "****"


class ConfigError(IreError):
    """A configuration value that cannot work (the CLI prints it as one line)."""


@dataclass(frozen=True)
class Option:
    name: str                       # flag --name, env FHIR_IRE_NAME, TOML key name
    help: str
    default: Any = None
    parse: Callable[[str, Path], Any] = None  # one value (from text) -> typed value; base = folder paths are relative to
    key: str = ""                   # app config key (default: NAME upper case, "-" -> "_")
    repeat: bool = False            # a list: repeatable flag, comma-separated variable, TOML array
    flag_only: bool = False         # a switch (store_true); env "1/true/yes", TOML true/false
    secret: bool = False            # masked by `fhir-ire config`
    metavar: str | None = None
    finish: Callable[[Any], Any] | None = None  # the parsed value (or list) -> the config value
    group: str = ""                 # set: the value goes to config[group][name with "_"] (e.g. LIMITS)

    def __post_init__(self):
        if self.parse is None:
            object.__setattr__(self, "parse", text)

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper().replace("-", "_")

    @property
    def config_key(self) -> str:
        return self.key or self.name.upper().replace("-", "_")

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


# --- the table -------------------------------------------------------------------------------------------

OPTIONS: list[Option] = [
    Option("bundles", "folder of Bundle files to serve", "bundles", path, metavar="DIR"),
    Option("allow-empty", "start even when the bundles folder holds no Bundle", False, boolean, flag_only=True),
    Option("host", "address to listen on (0.0.0.0 for every interface)", "127.0.0.1"),
    Option("port", "TCP port to listen on", 8080, port),
    Option("workers", "worker processes (each serves requests; a dead one is replaced)", 2, positive, metavar="N"),
    Option("threads", "requests working at once per worker, once their bodies are in (more wait for one to end)",
           4, positive, metavar="N"),
    Option("max-connections", "open connections per worker, idle keep-alive ones included, each with a thread "
           "while a request of its waits (more wait in the listen queue)", 1024, positive, metavar="N"),
    Option("header-timeout", "seconds a connection may take to send a request's headers, or stay idle between "
           "requests, before it is closed", 10, positive, metavar="S"),
    Option("preload", "load the bundles once before forking the workers, sharing their memory (false: each "
           "worker loads its own)", True, boolean),
    Option("nucc", "NUCC taxonomy CSV replacing the embedded release (full NUCC code system)", None, path,
           metavar="CSV"),
    Option("base-url", "public base URL when behind a proxy (CDS Hooks JWT audience, FHIR links)", None, url,
           metavar="URL"),
    Option("trust", "trust CDS Hooks JWTs from ISSUER, keys from a JWKS file or https URL", [], issuer_keys,
           repeat=True, metavar="ISSUER=JWKS", finish=dict),
    Option("fhir-server", "FHIR server origin the CRD service may query for missing prefetch", [], url,
           key="FHIR_SERVERS", repeat=True, metavar="ORIGIN"),
    Option("jti-store", "JWT replay store: sqlite:///PATH or redis://HOST:PORT/DB (default: a SQLite file in the "
           "temporary folder)", None, metavar="URL", secret=False),
    Option("audit-store", "where CDS Hooks calls, answers and feedback are kept (CRD found-37): sqlite:///PATH or "
           "postgresql://USER@HOST/DB (default: a SQLite file in $XDG_STATE_HOME/fhir-ire)", None, metavar="URL"),
    Option("audit-retention-days", "days the audit records are kept", 2190, positive, metavar="N"),
    Option("audit-sync", "a CDS Hooks call is answered once its SQLite audit record is written to the operating "
           "system (normal: kept if the server crashes, maybe not if the machine does) or flushed to disk (full: "
           "slower)", "normal", choice("normal", "full")),
    Option("feedback-max-bytes", "largest CDS Hooks feedback post in bytes (413 above it)", 64 * 1024, positive,
           metavar="N"),
    Option("feedback-max-items", "most feedback items in one post (413 above it)", 100, positive, metavar="N"),
    Option("cors-origin", "browser origin allowed to call the API (CORS), or * for any", [], origin, repeat=True,
           metavar="ORIGIN"),
    Option("certfile", "TLS certificate (PEM) to serve https", None, path, metavar="FILE"),
    Option("keyfile", "TLS private key (PEM) of --certfile", None, path, metavar="FILE"),
    Option("keyfile-password", "password of an encrypted --keyfile", None, secret=True, metavar="TEXT"),
    Option("log-format", "log lines as text or json", "text", choice("text", "json")),
    Option("log-level", "least severe level logged", "info", choice("debug", "info", "warning", "error")),
    Option("drain-timeout", "seconds a worker may take to finish its requests at shutdown before it is killed", 30,
           positive, metavar="S"),
]


def limit_options() -> list[Option]:
    """The request limits (fhir_ire/limits.py), one option each, gathered in config["LIMITS"]."""
    from dataclasses import fields

    from fhir_ire.limits import HELP, Limits

    return [Option(f.name.replace("_", "-"), HELP[f.name], f.default, positive if f.type is int else number,
                   group="LIMITS", metavar="N") for f in fields(Limits)]


OPTIONS += limit_options()


def option(name: str) -> Option:
    return next(o for o in OPTIONS if o.name == name)


def defaults() -> dict:
    """The app config every option's default gives (for create_app callers who set only some keys)."""
    return to_config({o.name: o.default for o in OPTIONS})


def to_config(values: dict) -> dict:
    """Option name -> value, as the app config: keys from the table, grouped options in their group's dict."""
    config: dict = {}
    for o in OPTIONS:
        value = _finish(o, values[o.name])
        if o.group:
            config.setdefault(o.group, {})[o.dest] = value
        else:
            config[o.config_key] = value
    return config


def _finish(opt: Option, value):
    if opt.repeat and value is None:
        value = []
    return opt.finish(value) if opt.finish and value is not None else value


def add_arguments(parser: argparse.ArgumentParser, options: list[Option] = OPTIONS) -> None:
    """One flag per option, default None so that a given flag can be told from a default."""
    parser.add_argument("--config", metavar="FILE", default=None,
                        help=f"TOML configuration file (env {FILE_ENV}); flags and FHIR_IRE_* variables win over it")
    for o in options:
        shown = "off" if o.flag_only else ("none" if o.default in (None, []) else o.default)
        text = f"{o.help} (default: {shown}; env {o.env})"
        if o.flag_only:
            parser.add_argument("--" + o.name, dest=o.dest, action="store_const", const=True, default=None,
                                help=text)
        else:
            parser.add_argument("--" + o.name, dest=o.dest, metavar=o.metavar or o.name.split("-")[-1].upper(),
                                action="append" if o.repeat else "store", default=None,
                                help=text + (" (repeatable; env comma-separated)" if o.repeat else ""))


# --- resolution: flags > environment > file > defaults -------------------------------------------------------

@dataclass
class Resolved:
    config: dict                    # the app config (keys as create_app reads them)
    values: dict                    # option name -> value as given (after parsing)
    sources: dict                   # option name -> where it came from ("--port", "FHIR_IRE_PORT", file, "default")
    file: Path | None = None
    unknown: tuple = ()             # FHIR_IRE_* variables that name no option

    def shown(self, name: str):
        """The value as `fhir-ire config` prints it: secrets masked, passwords in URLs masked."""
        opt, value = option(name), self.values[name]
        if value is None or value == []:
            return value
        if opt.secret:
            return MASK
        return mask_urls(value)


def mask_urls(value):
    if isinstance(value, str):
        return re.sub(r"(://[^:/@\s]*:)[^@/\s]+@", rf"\g<1>{MASK}@", value)
    if isinstance(value, (list, tuple)):
        return type(value)(mask_urls(v) for v in value)
    return value


OTHER_VARIABLES = {FILE_ENV, ENV_PREFIX + "TOKEN"}  # read elsewhere (the file itself; `fhir-ire load`'s token)


def resolve(args: argparse.Namespace | None = None, environ=None, cwd: Path | None = None) -> Resolved:
    environ = os.environ if environ is None else environ
    cwd = Path(cwd or Path.cwd())
    file_name = getattr(args, "config", None) or environ.get(FILE_ENV)
    file = path(file_name, cwd) if file_name else None
    table = read_file(Path(file)) if file else {}
    values, sources = {}, {}
    for o in OPTIONS:
        given = getattr(args, o.dest, None) if args is not None else None
        if given is not None:
            values[o.name], sources[o.name] = _parse(o, given, cwd, "--" + o.name), "--" + o.name
        elif o.env in environ:
            raw = environ[o.env]
            raw = [v.strip() for v in raw.split(",") if v.strip()] if o.repeat else raw
            values[o.name], sources[o.name] = _parse(o, raw, cwd, o.env), o.env
        elif o.name in table:
            values[o.name], sources[o.name] = _parse(o, table[o.name], Path(file).parent, f"{file}: {o.name}"), file
        else:
            default = o.default if o.default not in (None, []) else ([] if o.repeat else None)
            values[o.name] = _parse(o, default, cwd, "default") if default not in (None, []) else default
            sources[o.name] = "default"
    known = {o.env for o in OPTIONS} | OTHER_VARIABLES
    unknown = tuple(sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in known))
    config = to_config(values)
    return Resolved(config, values, sources, Path(file) if file else None, unknown)


def _parse(o: Option, raw, base: Path, where: str):
    items = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, dict):
        items = [f"{k}={v}" for k, v in raw.items()]
    if not o.repeat and len(items) != 1:
        raise ConfigError(f"{where}: takes one value, not a list")
    out = []
    for item in items:
        try:
            if o.flag_only or o.parse is boolean:
                out.append(boolean(item))
            elif isinstance(item, str) or o.parse in (integer, port, positive, number):
                out.append(o.parse(item, base))
            else:
                raise ValueError("must be text")
        except ValueError as e:
            raise ConfigError(f"{where}: {e}: {item!r}") from None
    return out if o.repeat else out[0]


def read_file(file: Path) -> dict:
    """The TOML file's keys (kebab-case or snake_case), refusing keys that name no option."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{file}: cannot read the configuration file: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{file}: not valid TOML: {e}") from None
    table = {k.replace("_", "-"): v for k, v in data.items()}
    names = {o.name for o in OPTIONS}
    unknown = sorted(set(table) - names)
    if unknown:
        raise ConfigError(f"{file}: unknown option {unknown[0]!r} (known: {', '.join(sorted(names))})")
    return table
