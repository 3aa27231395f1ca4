"""JSON responses encoded with orjson: 10-15x faster than the standard library on hook responses (measured in
docs/performance.md), same document (keys sorted as Flask sorts them). Anything orjson refuses (a number beyond
64 bits, a key that is not a string) is encoded by Flask's own provider instead."""

import orjson
from flask import current_app, jsonify

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def json_response(data, status: int = 200):
    try:
        body = orjson.dumps(data, option=OPTIONS, default=current_app.json.default)
    except (TypeError, orjson.JSONEncodeError):
        return jsonify(data), status
    return current_app.response_class(body, status=status, mimetype="application/json")
