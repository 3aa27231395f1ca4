"""The log handler of `fhir-ire serve`: request threads never wait for each other's writes, and yet every line is
written, whole, in the configured format."""

import io
import logging
import threading
import time

import pytest

from fhir_ire.logs import JsonFormatter, LineHandler, TextFormatter, TEXT


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
    assert sorted(lines) == sorted(f"thread {t} line {i} " + "x" * 50 for t in range(threads) for i in range(per_thread))


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
