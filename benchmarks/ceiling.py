"""The ceiling: a bare Flask app served exactly as `fhir-ire serve` serves ours (granian, WSGI, same workers), with a
GET and a POST endpoint that read the request and answer a small JSON document.

    python benchmarks/ceiling.py PORT [WORKERS [THREADS]]

THREADS (default: `fhir-ire serve --threads`'s default) sets granian's blocking threads and backpressure per worker,
as `fhir-ire serve` does."""

import sys

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/health")
@app.get("/ceiling")
def get():
    return jsonify(status="ok")


@app.post("/ceiling")
def post():
    body = request.get_data()
    return jsonify(cards=[], received=len(body))


if __name__ == "__main__":
    from granian import Granian
    from granian.constants import Interfaces

    from fhir_ire.config import OPTIONS

    threads = next(o.default for o in OPTIONS if o.name == "threads")
    port, workers = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else threads
    Granian("ceiling:app", address="127.0.0.1", port=port, interface=Interfaces.WSGI, workers=workers,
            blocking_threads=threads, backpressure=threads, log_access=False).serve()
