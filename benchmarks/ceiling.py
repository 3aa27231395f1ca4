"""The ceiling: a bare Flask app served exactly as `fhir-ire serve` serves ours (granian, WSGI, same workers), with a
GET and a POST endpoint that read the request and answer a small JSON document.

    python benchmarks/ceiling.py PORT [WORKERS]"""

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

    port, workers = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2
    Granian("ceiling:app", address="127.0.0.1", port=port, interface=Interfaces.WSGI, workers=workers,
            log_access=False).serve()
