"""`fhir-ire build | serve | load | config`: each subcommand lives in its own module (add_arguments + run)."""

import argparse
import importlib
import os
import sys

from fhir_ire import __version__
from fhir_ire.errors import IreError

COMMANDS = {
    "build": ("fhir_ire.build.command", "read the documents, check the facts, write FHIR bundles"),
    "serve": ("fhir_ire.serve", "serve the bundles: FHIR terminology API and CDS Hooks"),
    "load": ("fhir_ire.load", "load the bundles into an existing FHIR R4 server"),
    "audit": ("fhir_ire.crd.audit_command", "print the audit log of CDS Hooks calls and feedback as JSON lines"),
    "config": ("fhir_ire.config_command", "print the effective serve configuration (flags, FHIR_IRE_* variables, "
                                          "TOML file, defaults) with secrets masked"),
}
DESCRIPTION = ("Turn payer and coding documents about tumor ablation procedures into FHIR R4 bundles (build), "
               "serve them as a FHIR terminology API and a CDS Hooks service (serve), or load them into a FHIR "
               "server (load).")


def parser() -> tuple[argparse.ArgumentParser, dict]:
    top = argparse.ArgumentParser(prog="fhir-ire", description=DESCRIPTION,
                                  epilog="Run 'fhir-ire COMMAND --help' for the options of a command.")
    top.add_argument("--version", action="version", version=f"fhir-ire {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return top, modules


def main(argv: list[str] | None = None) -> int:
    top, modules = parser()
    args = top.parse_args(argv)
    try:
        return modules[args.command].run(args) or 0
    except IreError as e:
        print(f"fhir-ire {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `fhir-ire config | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
