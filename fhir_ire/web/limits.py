"""Request limits shared by every blueprint: body size (refused from Content-Length before reading, and while
reading a chunked body), safe JSON (nesting depth, number size, no NaN, no lone surrogates), the size of a hook
call (orders and prefetched resources); the values and their `fhir-ire serve` options: fhir_ire/limits.py and
fhir_ire/config.py."""

import json
import re
from functools import lru_cache
from itertools import accumulate

from flask import request

from fhir_ire.errors import InvalidRequest, OverLimit, TooLarge
from fhir_ire.limits import Limits


def check_length(content_length: int | None, limits: Limits) -> None:
    if content_length is not None and content_length > limits.max_body_bytes:
        raise TooLarge(f"The request body is {content_length:,} bytes; this server takes at most "
                       f"{limits.max_body_bytes:,} (--max-body-bytes)")


def read_body(limits: Limits) -> bytes:
    """The request body, refused (413) when longer than the limit. The guard lets werkzeug read at most one byte
    more than the limit (a chunked body has no length to check first), which is how a longer one shows."""
    return check_body(request.get_data(cache=True), limits)


def check_body(data: bytes, limits: Limits) -> bytes:
    """data, refused (413) when longer than the body size limit."""
    if len(data) > limits.max_body_bytes:
        raise TooLarge(f"The request body is larger than {limits.max_body_bytes:,} bytes, the most this server "
                       "takes (--max-body-bytes)")
    return data


# After a successful parse every `"` outside a string opens one, so this removes the strings in linear time.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_number(kind: str, max_length: int):
    def parse(text: str):
        if len(text) > max_length:
            raise InvalidRequest(f"A JSON number has {len(text):,} characters; this server takes at most "
                                 f"{max_length} (--max-number-length)")
        value = int(text) if kind == "int" else float(text)
        if value in (float("inf"), float("-inf")):
            raise InvalidRequest(f"The JSON number {text[:20]} is out of range")
        return value
    return parse


def _refuse_constant(name: str):
    raise InvalidRequest(f"{name} is not valid JSON")


@lru_cache(maxsize=16)  # made once, not on every request as json.loads(text, parse_int=...) makes it
def _decoder(max_number_length: int) -> json.JSONDecoder:
    return json.JSONDecoder(parse_int=_refuse_number("int", max_number_length), parse_constant=_refuse_constant,
                            parse_float=_refuse_number("float", max_number_length))


def parse_json(raw: bytes, limits: Limits, what: str = "The request body"):
    """The JSON value of raw, or InvalidRequest (400) saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidRequest(f"{what} is not UTF-8 (byte {e.start})") from None
    try:
        if text.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _decoder(limits.max_number_length).decode(text)
    except RecursionError:
        raise InvalidRequest(f"{what} is nested too deeply (at most {limits.max_json_depth} levels, "
                             "--max-json-depth)") from None
    except json.JSONDecodeError as e:
        raise InvalidRequest(f"{what} is not valid JSON: {e}") from None
    # no deeper than its opening brackets are many (in strings too): most bodies need no scan
    depth = 0 if text.count("[") + text.count("{") <= limits.max_json_depth else \
        max(accumulate(map(_STEP.__getitem__, _NOT_BRACKET.sub("", _STRING.sub("", text)).encode())), default=0)
    if depth > limits.max_json_depth:
        raise InvalidRequest(f"{what} is nested {depth} levels deep; this server takes at most "
                             f"{limits.max_json_depth} (--max-json-depth)")
    if _SURROGATE_ESCAPE.search(text):  # rare: then check exactly, pairs were joined by the parser
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest(f"{what} has a lone UTF-16 surrogate (\\uD800-\\uDFFF) in a string") from None
    return value


def _count(value) -> int:
    """Resources in a context or prefetch value: a Bundle's entries, a list's items, one resource."""
    if isinstance(value, dict):
        entries = value.get("entry")
        return len(entries) if value.get("resourceType") == "Bundle" and isinstance(entries, list) else 1
    return len(value) if isinstance(value, list) else 0


def check_hook_size(body, limits: Limits) -> None:
    """Refuse a hook call with more orders or prefetched resources than this server works through per call."""
    if not isinstance(body, dict):
        return
    context, orders = body.get("context"), 0
    if isinstance(context, dict):
        for key in ("draftOrders", "dispatchedOrders", "appointments"):
            if key in context:
                orders += _count(context[key])
    if orders > limits.max_orders:
        raise OverLimit(f"The hook call has {orders:,} orders; this service takes at most {limits.max_orders} "
                        "per call (--max-orders): split the call")
    prefetch, resources = body.get("prefetch"), 0
    if isinstance(prefetch, dict):
        for value in prefetch.values():
            resources += _count(value)
    if resources > limits.max_prefetch_resources:
        raise OverLimit(f"The hook call prefetches {resources:,} resources; this service takes at most "
                        f"{limits.max_prefetch_resources} per call (--max-prefetch-resources)")
