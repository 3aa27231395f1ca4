"""`fhir-ire serve` (placeholder until the terminology service lands)."""


def add_arguments(p):
    p.add_argument("--bundles", default="bundles")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--nucc")


def run(args):
    raise NotImplementedError
