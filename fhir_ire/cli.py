"""`fhir-ire build | serve | load`: each subcommand lives in its own module (add_arguments + run)."""

import argparse
import importlib
import sys

from fhir_ire.errors import IreError

COMMANDS = {
    "build": ("fhir_ire.build.command", "read the documents, check the facts, write FHIR bundles"),
    "serve": ("fhir_ire.serve", "serve the bundles: FHIR terminology API and CDS Hooks"),
    "load": ("fhir_ire.load", "load the bundles into an existing FHIR R4 server"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fhir-ire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args) or 0
    except IreError as e:
        print(f"fhir-ire {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
