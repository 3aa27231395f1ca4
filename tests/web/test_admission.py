"""Admission (web/admission.py): permits granted strictly in the order they were asked for, a body still arriving
holds no permit, the body Flask reads is the one the client sent, and every request of ours takes exactly one permit
(before Flask under create_app, in the guard when mounted in a host app)."""

import io
import threading
import time

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from fhir_ire.app import create_app, mount
from fhir_ire.store import load_bundles
from fhir_ire.web.admission import Admission, Permits

from ..conftest import ROOT

BUNDLES = ROOT / "bundles"


@pytest.fixture(scope="module")
def index():
    return load_bundles(BUNDLES)


def wait_until(condition, what: str) -> None:
    """Spin until condition() holds; the deadline only keeps a broken build from hanging the suite."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.001)


def test_permits_are_granted_in_the_order_they_were_asked_for():
    permits, granted = Permits(1), []
    permits.acquire()

    def take(n: int) -> None:
        permits.acquire()
        granted.append(n)
        permits.release()

    threads = []
    for n in range(8):
        threads.append(threading.Thread(target=take, args=(n,)))
        threads[-1].start()
        wait_until(lambda: permits.waiting == n + 1, f"thread {n} waiting")
    permits.release()
    for t in threads:
        t.join()
    assert granted == list(range(8))
    assert permits.free == 1 and permits.waiting == 0


def test_a_release_hands_the_permit_to_the_waiter_not_to_a_thread_asking_at_that_moment():
    permits, granted = Permits(1), []
    permits.acquire()

    def waiter() -> None:
        permits.acquire()
        granted.append("waiter")
        permits.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until(lambda: permits.waiting == 1, "the waiter waiting")
    permits.release()
    assert permits.free == 0  # handed over, not put back for anyone to take
    permits.acquire()  # asked while the waiter may not even have woken: it must come second
    granted.append("newcomer")
    permits.release()
    thread.join()
    assert granted == ["waiter", "newcomer"]


class DrippingBody:
    """A body that arrives only when the test says so."""

    def __init__(self, data: bytes):
        self.data, self.reading, self.go = data, threading.Event(), threading.Event()

    def read(self, size: int = -1) -> bytes:
        self.reading.set()
        self.go.wait()
        data, self.data = self.data, b""
        return data


def environ(body, length: int | None = None) -> dict:
    env = EnvironBuilder(method="POST", path="/fhir/CodeSystem/$lookup", content_type="application/json").get_environ()
    env["wsgi.input"] = body
    if length is not None:
        env["CONTENT_LENGTH"] = str(length)
    return env


def recording_app(seen: list):
    def app(environ, start_response):
        seen.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [b""]
    return app


def test_a_request_whose_body_is_still_arriving_holds_no_permit():
    permits, seen = Permits(1), []
    admission = Admission(recording_app(seen), permits, max_body_bytes=1000)
    slow = DrippingBody(b'{"slow": true}')
    thread = threading.Thread(target=admission, args=(environ(slow, len(slow.data)), lambda *a: None))
    thread.start()
    slow.reading.wait()
    assert permits.free == 1
    admission(environ(io.BytesIO(b'{"quick": 1}'), 12), lambda *a: None)  # answered while the slow one waits
    assert seen == [b'{"quick": 1}']
    slow.go.set()
    thread.join()
    assert seen == [b'{"quick": 1}', b'{"slow": true}'] and permits.free == 1


@pytest.mark.parametrize("length, sent, expected", [
    (5, b"12345", b"12345"),
    (None, b"x" * 50, b"x" * 11),  # chunked: one byte over the limit is read, which tells Flask it is too long
    (5000, b"x" * 5000, b"x" * 5000),  # declared over the limit: left unread (Flask answers 413 from the header)
], ids=["declared", "chunked-over-the-limit", "declared-over-the-limit"])
def test_the_app_reads_what_admission_read(length, sent, expected):
    seen = []
    Admission(recording_app(seen), Permits(1), max_body_bytes=10)(environ(io.BytesIO(sent), length), lambda *a: None)
    assert seen == [expected]


class BrokenBody:
    def read(self, size: int = -1) -> bytes:
        raise OSError("connection reset by peer")


def test_a_body_that_cannot_be_read_is_a_json_400_as_before(index):
    app = create_app({"INDEX": index, "BUNDLES": str(BUNDLES)})
    answer = {}
    body = b"".join(app.wsgi_app(environ(BrokenBody(), 100), lambda status, headers, exc_info=None: answer.update(status=status)))
    assert answer["status"].startswith("400") and body.startswith(b"{")
    assert app.extensions["fhir_ire.permits"].free == app.extensions["fhir_ire.config"]["THREADS"]


def permits_seen_by_a_view(app) -> list:
    seen = []
    app.before_request(lambda: seen.append(app.extensions["fhir_ire.permits"].free))  # runs after the guard's
    return seen


def test_under_create_app_a_request_takes_one_permit_before_flask(index):
    app = create_app({"INDEX": index, "BUNDLES": str(BUNDLES), "THREADS": 3})
    seen = permits_seen_by_a_view(app)
    assert app.test_client().post("/cds-services/order-sign-crd/feedback", json={}).status_code == 400
    assert app.test_client().get("/health/live").status_code == 200
    assert seen == [2, 2] and app.extensions["fhir_ire.permits"].free == 3


def test_mounted_in_a_host_app_the_guard_takes_the_permit_on_our_routes_only(index):
    host = Flask("host")
    host.get("/home")(lambda: "home")
    mount(host, {"INDEX": index, "BUNDLES": str(BUNDLES), "THREADS": 3}, prefix="/api")
    seen = permits_seen_by_a_view(host)
    assert host.test_client().get("/api/health/live").status_code == 200
    assert host.test_client().get("/home").status_code == 200
    assert seen == [2, 3] and host.extensions["fhir_ire.permits"].free == 3
