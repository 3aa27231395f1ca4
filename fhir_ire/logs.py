"""Logging for `fhir-ire serve`: text or JSON lines on stderr, the same format for our loggers and granian's, and
an access log line per request with a request id (never query values, which may hold patient data)."""

import contextvars
import json
import logging
import logging.config
import re
import time
from collections import deque

from fhir_ire.ids import new_uuid_hex

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("fhir_ire_request_id", default=None)
access = logging.getLogger("fhir_ire.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def escape(text: str, limit: int = 512) -> str:
    """One bounded line: control characters (line breaks included) escaped, so no one can forge a log line."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


class _SecondsCache:
    """formatTime with the formatted second kept: strftime once a second instead of once a line (same text)."""

    def formatTime(self, record, datefmt=None):
        second = int(record.created)
        cached = self.__dict__.get("_second")
        if cached is None or cached[:2] != (second, datefmt):
            cached = self._second = (second, datefmt, time.strftime(datefmt or self.default_time_format,
                                                                    self.converter(record.created)))
        return cached[2] if datefmt else self.default_msec_format % (cached[2], record.msecs)


class _Time:
    """The two fields formatTime reads of a record."""

    __slots__ = ("created", "msecs")

    def __init__(self, created: float, msecs: int):
        self.created, self.msecs = created, msecs + 0.0


class JsonFormatter(_SecondsCache, logging.Formatter):
    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "event")

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for field in self.FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if line.get("request_id") is None and request_id.get():
            line["request_id"] = request_id.get()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)

    def access_line(self, created: float, message: str, fields: dict) -> str:
        """format() of the access line's record, made without one."""
        msecs = int((created - int(created)) * 1000)
        line = {"time": self.formatTime(_Time(created, msecs), "%Y-%m-%dT%H:%M:%S") + f".{msecs:03d}Z",
                "level": "info", "logger": access.name, "message": message}
        line.update((k, v) for k, v in fields.items() if v is not None)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(_SecondsCache, logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None) or request_id.get()
        return f"{line} [{rid}]" if rid else line

    def access_line(self, created: float, message: str, fields: dict) -> str | None:
        """format() of the access line's record, made without one (None when the format is not ours)."""
        if self._fmt != TEXT or self.datefmt:
            return None
        asctime = self.formatTime(_Time(created, int((created - int(created)) * 1000)))
        level = logging.getLevelName(logging.INFO)
        return f"{asctime} {level} {access.name}: {message} [{fields['request_id']}]"


class LineHandler(logging.StreamHandler):
    """A stream handler whose callers never wait for each other: each thread formats its own line, queues it, and
    whichever thread finds the stream free writes every queued line in one write. With logging's StreamHandler the
    request threads of a busy worker queued on its lock while one of them was inside the write system call (most
    of their time under load, measured with py-spy). No line is left behind: a thread that finds the stream taken
    leaves its line to the writer, which looks at the queue again after it lets go."""

    def __init__(self, stream=None):
        super().__init__(stream)
        self.queued: deque[str] = deque()  # append and popleft are atomic: no line is lost between threads

    def handle(self, record: logging.LogRecord) -> bool:
        if not self.filter(record):
            return False
        try:
            line = self.format(record)
        except Exception:  # logging's contract: a record that cannot be formatted never breaks its caller
            self.handleError(record)
            return True
        self.put(line, record)
        return True

    def put(self, line: str, record: logging.LogRecord | None = None) -> None:
        """Queue a formatted line; write the queue unless another thread is writing it."""
        self.queued.append(line + self.terminator)
        while self.queued and self.lock.acquire(blocking=False):
            try:
                lines = [self.queued.popleft() for _ in range(len(self.queued))]  # only the lock holder takes
                self.stream.write("".join(lines))
                if hasattr(self.stream, "flush"):  # flush() would take the lock again
                    self.stream.flush()
            except Exception:
                self.handleError(record)
            finally:
                self.lock.release()


def dict_config(fmt: str = "text", level: str = "info") -> dict:
    """A logging.config dict for our loggers and granian's (`_granian`, `granian.access`), on stderr."""
    formatter = {"()": JsonFormatter} if fmt == "json" else {"()": TextFormatter, "fmt": TEXT}
    formatter["datefmt"] = None
    handler = {"class": "fhir_ire.logs.LineHandler", "formatter": "fhir_ire", "stream": "ext://sys.stderr"}
    logger = {"handlers": ["fhir_ire"], "level": level.upper(), "propagate": False}
    return {"version": 1, "disable_existing_loggers": False, "formatters": {"fhir_ire": formatter},
            "handlers": {"fhir_ire": handler},
            "loggers": {"fhir_ire": logger, "_granian": logger, "granian.access": logger}}


def configure(fmt: str = "text", level: str = "info") -> dict:
    config = dict_config(fmt, level)
    logging.config.dictConfig(config)
    logging.Formatter.converter = time.gmtime  # UTC timestamps everywhere
    return config


def query_names(query: str) -> str:
    """'system=...&code=C25.0' -> 'system&code': which parameters were sent, never their values."""
    names = [part.split("=", 1)[0] for part in query.split("&") if part]
    return "&".join(dict.fromkeys(names))


class AccessLog:
    """WSGI middleware: a request id (the client's X-Request-ID when well formed, else a new one) in the response
    header and in every log line of the request, and one access line per request."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        given = environ.get("HTTP_X_REQUEST_ID", "")
        rid = given if given and REQUEST_ID.match(given) else new_uuid_hex()
        environ["HTTP_X_REQUEST_ID"] = rid
        token = request_id.set(rid)
        started, status = time.perf_counter(), ["-"]

        def start(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"] + [("X-Request-ID", rid)]
            return start_response(status_line, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            query = query_names(environ.get("QUERY_STRING", ""))
            path = escape(environ.get("PATH_INFO", "") + (f"?{query}" if query else ""))
            ms = round((time.perf_counter() - started) * 1000, 1)
            if access.isEnabledFor(logging.INFO):
                method = environ.get("REQUEST_METHOD")
                log_access((method, path, status[0], ms), {
                    "request_id": rid, "method": method, "path": path,
                    "status": int(status[0]) if status[0].isdigit() else None, "duration_ms": ms})
            request_id.reset(token)


ACCESS_LINE = "%s %s %s %.1f ms"


def log_access(args: tuple, fields: dict) -> None:
    """The access line. When our one handler (with our format) is all it goes to, as under `fhir-ire serve`, the
    line is formatted straight from its fields: the record, the handler chain and the generic formatting cost
    several times the line (a tenth of a cached read); else a record, as any log call makes."""
    handler = sole_line_handler()
    line = handler.formatter.access_line(time.time(), ACCESS_LINE % args, fields) \
        if handler is not None and hasattr(handler.formatter, "access_line") else None
    if line is not None:
        handler.put(line)
    else:  # the record made here: logging would look up its caller's frame
        access.handle(access.makeRecord(access.name, logging.INFO, __file__, 0, ACCESS_LINE, args, None,
                                        "AccessLog", fields))


def sole_line_handler() -> "LineHandler | None":
    """The LineHandler the access logger's records go to, when they go to it alone and no filter is in the way."""
    if access.filters or access.disabled:
        return None
    found, logger = [], access
    while logger is not None:
        found += logger.handlers
        if len(found) > 1 or not logger.propagate:
            break
        logger = logger.parent
    handler = found[0] if len(found) == 1 else None
    return handler if type(handler) is LineHandler and not handler.filters and handler.level <= logging.INFO \
        else None
