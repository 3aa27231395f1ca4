"""Admission before Flask: a request's body is read first (within the size limit), then the request waits for one of
the worker's permits, first come, first served, and only then enters Flask. A client sending its body slowly waits
in its own thread holding no permit; the requests waiting for a permit sleep each on a lock of their own instead of
running Flask's request set-up and contending for the interpreter lock (docs/performance.md, Serving)."""

import _thread
import io
from collections import deque

from werkzeug.wsgi import get_content_length

NO_BODY = ("GET", "HEAD", "OPTIONS")  # methods whose body is never read


class Permits:
    """At most n holders; a release hands its permit straight to the longest waiting thread, so permits are granted
    strictly in the order they were asked for (a threading.Semaphore lets a thread arriving at the moment of a
    release take the permit before the waiter it has just woken)."""

    def __init__(self, n: int):
        self.free = n
        self._lock = _thread.allocate_lock()
        self._waiters: deque = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def acquire(self) -> None:
        with self._lock:
            if self.free and not self._waiters:
                self.free -= 1
                return
            turn = _thread.allocate_lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the release that hands this thread its permit

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self.free += 1


class _Failed(io.RawIOBase):
    """A body whose read failed: reading it again raises the same error, where Flask reads it (its usual answer)."""

    def __init__(self, error: BaseException):
        super().__init__()
        self.error = error

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer):
        raise self.error


def buffer_body(environ: dict, max_bytes: int) -> None:
    """Read the request body into memory, at most max_bytes + 1 bytes (one more shows a chunked body is too long),
    and put it back as wsgi.input. A body declared longer than max_bytes is not read: Flask refuses it (413)."""
    if environ.get("REQUEST_METHOD") in NO_BODY:
        return
    length = get_content_length(environ)
    if length is not None and length > max_bytes:
        return
    stream, want, parts = environ["wsgi.input"], max_bytes + 1 if length is None else length, []
    try:
        while want > 0:
            part = stream.read(want)
            if not part:
                break
            parts.append(part)
            want -= len(part)
    except Exception as e:  # noqa: BLE001 - whatever the server's stream raised, Flask meets it as it would have
        environ["wsgi.input"] = _Failed(e)
        return
    environ["wsgi.input"] = io.BytesIO(b"".join(parts))


class Admission:
    """WSGI middleware of create_app (every path is ours): the body in, then a permit, then Flask. The guard
    (web/guard.py) sees "fhir_ire.admitted" and takes no second permit; a mounted app has no such middleware and the
    guard takes the permit itself."""

    def __init__(self, app, permits: Permits, max_body_bytes: int):
        self.app, self.permits, self.max_body_bytes = app, permits, max_body_bytes

    def __call__(self, environ, start_response):
        buffer_body(environ, self.max_body_bytes)
        self.permits.acquire()
        environ["fhir_ire.admitted"] = True
        try:
            return self.app(environ, start_response)
        finally:
            self.permits.release()
