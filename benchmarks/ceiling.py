"""The ceiling: a bare Flask app served exactly as `fhir-ire serve` serves ours (granian with the settings of
`fhir_ire.serve.granian_settings`, taken from the same defaults: WSGI, HTTP/1, a thread per open connection up to
--max-connections, ...), with a GET and a POST endpoint that read the request and answer a small JSON document.
It has no request permits: those are the app's (web/admission.py), and their cost is part of what is measured.

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

    from fhir_ire import config as options
    from fhir_ire.serve import granian_settings

    config = {**options.defaults(), "HOST": "127.0.0.1", "PORT": int(sys.argv[1])}
    if len(sys.argv) > 2:
        config["WORKERS"] = int(sys.argv[2])
    Granian("ceiling:app", **granian_settings(config, config["HOST"])).serve()
