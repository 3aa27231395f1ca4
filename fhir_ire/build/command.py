"""`fhir-ire build` (placeholder)."""


def add_arguments(p):
    p.add_argument("--seeds", default="seeds")
    p.add_argument("--out", default="bundles")
    p.add_argument("--nucc")
    p.add_argument("--check", action="store_true")


def run(args):
    raise NotImplementedError
