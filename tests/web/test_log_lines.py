"""The log handler of `fhir-ire serve`: request threads never wait for each other's writes, and yet every line is
written, whole, in the configured format."""

import io
import logging
import threading
import time

import pytest

from fhir_ire.logs import (ACCESS_LINE, TEXT, JsonFormatter, LineHandler, TextFormatter, access, configure, log_access,
                           sole_line_handler)


def handler(stream, formatter=None) -> LineHandler:
    h = LineHandler(stream)
    h.setFormatter(formatter or logging.Formatter("%(message)s"))
    return h


def record(message: str, created: float | None = None) -> logging.LogRecord:
    r = logging.LogRecord("fhir_ire.access", logging.INFO, __file__, 1, message, (), None)
    if created is not None:
        r.created, r.msecs = created, int((created - int(created)) * 1000) + 0.0
    return r


class SlowStream(io.StringIO):
    """A stream whose write takes a while and lets other threads run (as a write system call does)."""

    def write(self, text):
        time.sleep(0.001)
        return super().write(text)


def test_every_line_of_many_threads_is_written_once_and_whole():
    stream = SlowStream()
    h = handler(stream)
    threads, per_thread = 8, 200

    def emit(t):
        for i in range(per_thread):
            h.handle(record(f"thread {t} line {i} " + "x" * 50))

    workers = [threading.Thread(target=emit, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    lines = stream.getvalue().splitlines()
    expected = [f"thread {t} line {i} " + "x" * 50 for t in range(threads) for i in range(per_thread)]
    assert sorted(lines) == sorted(expected)


def test_a_line_queued_during_another_threads_write_is_written_by_that_thread():
    entered, go = threading.Event(), threading.Event()

    class HeldStream(io.StringIO):
        def write(self, text):
            entered.set()
            go.wait(5)
            return super().write(text)

    stream = HeldStream()
    h = handler(stream)
    writer = threading.Thread(target=h.handle, args=(record("first"),))
    writer.start()
    assert entered.wait(5)
    second = threading.Thread(target=h.handle, args=(record("second"),))
    second.start()
    second.join(5)
    returned = not second.is_alive()  # the stream is taken: the line is queued, the call does not wait for it
    go.set()
    writer.join(5)
    assert returned
    assert stream.getvalue() == "first\nsecond\n"


def test_lines_of_one_thread_keep_their_order():
    stream = io.StringIO()
    h = handler(stream)
    for i in range(100):
        h.handle(record(f"line {i}"))
    assert stream.getvalue().splitlines() == [f"line {i}" for i in range(100)]


def test_a_filtered_record_is_not_written():
    stream = io.StringIO()
    h = handler(stream)
    h.addFilter(lambda r: "secret" not in r.getMessage())
    assert h.handle(record("keep")) is True
    assert h.handle(record("a secret")) is False
    assert stream.getvalue() == "keep\n"


def test_a_record_that_cannot_be_formatted_does_not_break_the_caller(monkeypatch):
    stream = io.StringIO()
    h = handler(stream)
    seen = []
    monkeypatch.setattr(h, "handleError", seen.append)
    bad = logging.LogRecord("fhir_ire", logging.INFO, __file__, 1, "%d items", ("many",), None)
    h.handle(bad)
    h.handle(record("next"))
    assert seen == [bad] and stream.getvalue() == "next\n"


@pytest.mark.parametrize("formatter", [TextFormatter(TEXT), JsonFormatter()], ids=["text", "json"])
def test_timestamps_are_those_of_the_logging_module(formatter, monkeypatch):
    monkeypatch.setattr(logging.Formatter, "converter", time.gmtime)
    plain = logging.Formatter(TEXT)
    for created in (1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.5, 1_700_000_000.25, 1_800_000_000.007):
        r = record("x", created)
        assert formatter.formatTime(r) == plain.formatTime(r)
        assert formatter.formatTime(r, "%Y-%m-%dT%H:%M:%S") == plain.formatTime(r, "%Y-%m-%dT%H:%M:%S")


ACCESS_FIELDS = {"request_id": "req-1", "method": "GET", "path": "/fhir/CodeSystem/$lookup?system&code", "status": 200,
                 "duration_ms": 1.25}
ACCESS_ARGS = ("GET", "/fhir/CodeSystem/$lookup?system&code", "200", 1.25)


@pytest.mark.parametrize("formatter", [TextFormatter(TEXT), JsonFormatter()], ids=["text", "json"])
def test_the_access_line_made_without_a_record_is_the_formatted_record(formatter, monkeypatch):
    monkeypatch.setattr(logging.Formatter, "converter", time.gmtime)
    for created in (1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.5071, 1_800_000_000.007):
        r = logging.LogRecord(access.name, logging.INFO, __file__, 0, ACCESS_LINE, ACCESS_ARGS, None, "AccessLog")
        r.__dict__.update(ACCESS_FIELDS)
        r.created, r.msecs = created, int((created - int(created)) * 1000) + 0.0
        assert formatter.access_line(created, ACCESS_LINE % ACCESS_ARGS, ACCESS_FIELDS) == formatter.format(r)


def test_another_text_format_is_left_to_the_record():
    assert TextFormatter("%(message)s").access_line(1.0, "x", ACCESS_FIELDS) is None


@pytest.fixture
def served_logging():
    """Logging as `fhir-ire serve` sets it up, into a string; the loggers' previous set-up restored after."""
    names = ["fhir_ire", "fhir_ire.access", "_granian", "granian.access"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate,
                 logging.getLogger(n).filters[:], logging.getLogger(n).disabled) for n in names}
    configure("text", "info")
    stream = io.StringIO()
    ours = logging.getLogger("fhir_ire").handlers[0]
    ours.setStream(stream)
    yield stream, ours
    for n, (handlers, level, propagate, filters, disabled) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:], logger.level, logger.propagate, logger.filters[:], logger.disabled = \
            handlers, level, propagate, filters, disabled


def only(handler):
    """The fhir_ire logger's handlers reduced to ours (pytest adds its capturing handlers while a test runs)."""
    logging.getLogger("fhir_ire").handlers[:] = [handler]


def test_access_lines_of_the_served_set_up_are_written_whole(served_logging):
    stream, ours = served_logging
    only(ours)
    assert sole_line_handler() is ours
    log_access(ACCESS_ARGS, ACCESS_FIELDS)
    line = stream.getvalue()
    assert line.endswith(" INFO fhir_ire.access: GET /fhir/CodeSystem/$lookup?system&code 200 1.2 ms [req-1]\n")


def test_a_filter_or_another_handler_gets_records(served_logging):
    stream, ours = served_logging
    only(ours)
    seen = []
    access.addFilter(lambda r: seen.append(r.request_id) or True)
    assert sole_line_handler() is None
    log_access(ACCESS_ARGS, ACCESS_FIELDS)
    assert seen == ["req-1"] and "[req-1]" in stream.getvalue()
    access.filters.clear()
    extra = logging.Handler()
    extra.emit = lambda r: seen.append(r.getMessage())
    access.addHandler(extra)
    try:
        assert sole_line_handler() is None
        log_access(ACCESS_ARGS, ACCESS_FIELDS)
    finally:
        access.removeHandler(extra)
    assert seen[-1] == ACCESS_LINE % ACCESS_ARGS and stream.getvalue().count("[req-1]") == 2
