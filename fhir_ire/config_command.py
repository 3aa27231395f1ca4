"""`fhir-ire config`: the effective configuration of `fhir-ire serve` (same flags, environment and file), each value
with where it came from, as TOML that can be saved as a configuration file. Secrets are masked."""

import json

from fhir_ire import config


def add_arguments(p):
    config.add_arguments(p)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def lines(resolved: config.Resolved) -> list[str]:
    out = [f"# fhir-ire serve configuration; precedence: flags > {config.ENV_PREFIX}* environment > "
           f"configuration file ({resolved.file or 'none'}) > defaults"]
    for o in config.OPTIONS:
        value, source = resolved.shown(o.name), resolved.sources[o.name]
        if o.name == "trust" and value:
            value = [f"{issuer}={jwks}" for issuer, jwks in value]
        shown = f"{o.name} = {toml_value(value)}" if value not in (None, []) else f"# {o.name} = (not set)"
        out.append(f"{shown:<60} # {source}")
    out += [f"# warning: {name} names no option (ignored)" for name in resolved.unknown]
    return out


def run(args) -> int:
    print("\n".join(lines(config.resolve(args))))
    return 0


def markdown_table() -> str:
    """The README's configuration table, made from OPTIONS (a test keeps the README equal to it)."""
    rows = ["| flag | environment variable | default | what |", "|---|---|---|---|"]
    for o in config.OPTIONS:
        default = "off" if o.flag_only else ("—" if o.default in (None, []) else f"`{toml_value(o.default)}`")
        flag = f"`--{o.name}`" + (f" {o.metavar or ''}".rstrip() if not o.flag_only else "")
        flag += " (repeatable)" if o.repeat else ""
        rows.append(f"| {flag} | `{o.env}` | {default} | {o.help} |")
    return "\n".join(rows)
