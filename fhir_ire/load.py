"""`fhir-ire load` (placeholder until the loader lands)."""


def add_arguments(p):
    p.add_argument("--server", required=True)
    p.add_argument("--bundles", default="bundles")


def run(args):
    raise NotImplementedError
