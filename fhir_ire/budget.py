"""A per-request time budget that long loops check cooperatively (the CRD engine per order and per rule, value set
expansions, reads from an EHR's FHIR server): past the deadline they raise OverLimit, so the request answers
422 too-costly and frees its worker instead of running on after the client has given up.

The web layer starts a budget for each request; outside a request (the CLI, unit tests) there is none and check()
costs one context-variable read."""

import time
from contextvars import ContextVar

from fhir_ire.errors import OverLimit

_deadline: ContextVar[tuple[float, float] | None] = ContextVar("fhir_ire_deadline", default=None)


def start(seconds: float | None) -> None:
    """Give the current request (thread or task) seconds from now; None or 0 means no budget."""
    _deadline.set((time.monotonic() + seconds, seconds) if seconds else None)


def stop() -> None:
    _deadline.set(None)


def check(doing: str = "answering") -> None:
    """Raise OverLimit when the budget is spent. Call it once per item of any loop whose length the caller sets."""
    current = _deadline.get()
    if current is not None and time.monotonic() > current[0]:
        raise OverLimit(f"The request was stopped after its time budget of {current[1]:g} s while {doing}; "
                        "ask for less (fewer orders, a smaller count) or raise --time-budget")


def remaining(at_most: float) -> float:
    """Seconds left, capped at at_most (for network timeouts); at_most when there is no budget."""
    current = _deadline.get()
    return at_most if current is None else max(0.0, min(at_most, current[0] - time.monotonic()))
