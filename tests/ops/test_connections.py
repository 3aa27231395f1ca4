"""Connections to the real server: idle keep-alive connections (an EHR's connection pool) never keep new requests
waiting, and connections that are silent, send their headers slowly or stay idle are closed after --header-timeout."""

import http.client
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration


def answer(port: int, conn: http.client.HTTPConnection | None = None, path: str = "/health/live") -> int:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def test_idle_keep_alive_connections_do_not_hold_up_a_new_request(serve):
    server = serve("--workers", "1", "--threads", "2")
    server.wait_for("ready at")
    pool = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(12)]  # 6 x threads
    try:
        assert [answer(server.port, c) for c in pool] == [200] * 12
        started = time.monotonic()
        assert answer(server.port) == 200  # a new connection, while the 12 stay open and idle
        assert time.monotonic() - started < 3
        assert [answer(server.port, c) for c in pool] == [200] * 12  # and they were kept alive, not dropped
    finally:
        for conn in pool:
            conn.close()


def closed_after(sock: socket.socket, limit: float, drip: bytes = b"") -> float | None:
    """Seconds until the server closes sock (None: still open after limit), sending drip every 0.2 s meanwhile."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < limit:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except socket.timeout:
            if drip:
                try:
                    sock.sendall(drip)
                except OSError:
                    return time.monotonic() - started
        except OSError:
            return time.monotonic() - started
    return None


CASES = {  # what a client sends, then what it drips every 0.2 s
    "silent": (b"", b""),
    "headers-stalled": (b"POST /fhir/ValueSet/$expand HTTP/1.1\r\nHost: x\r\n", b""),
    "headers-dripped": (b"GET /fhir/metadata HTTP/1.1\r\n", b"X-Slow: y\r\n"),
    "idle-after-a-request": (b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", b""),
}


def test_a_connection_is_closed_after_the_header_timeout(serve):
    server = serve("--workers", "1", "--header-timeout", "1")
    server.wait_for("ready at")

    def close_time(sent: bytes, drip: bytes) -> float | None:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(sent)
            if sent.endswith(b"\r\n\r\n"):  # a whole request: its answer comes first, then the connection idles
                sock.settimeout(10)
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            return closed_after(sock, limit=15, drip=drip)

    with ThreadPoolExecutor(len(CASES)) as pool:  # side by side: one server, one wait
        closed = dict(zip(CASES, pool.map(lambda case: close_time(*case), CASES.values())))
    assert all(t is not None and 0.5 < t < 8 for t in closed.values()), closed
    assert answer(server.port) == 200


def test_bodies_sent_slowly_or_never_do_not_hold_up_other_requests(serve):
    server = serve("--workers", "1", "--threads", "2")
    server.wait_for("ready at")
    head = (b"POST /fhir/CodeSystem/$lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
            b"Content-Length: 100\r\n\r\n{")
    stalled = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(6)]  # 3 x threads
    try:
        for sock in stalled:
            sock.sendall(head)  # the headers and one byte of the body, then nothing
        time.sleep(0.5)
        started = time.monotonic()
        assert answer(server.port) == 200
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", "/fhir/CodeSystem/$lookup", body=b'{"resourceType": "Parameters", "parameter": ['
                     b'{"name": "system", "valueUri": "http://hl7.org/fhir/administrative-gender"}, '
                     b'{"name": "code", "valueCode": "male"}]}', headers={"Content-Type": "application/fhir+json"})
        assert conn.getresponse().status == 200
        assert time.monotonic() - started < 3
        stalled[0].sendall(b"}".ljust(99))  # a stalled body that ends after all is answered
        stalled[0].settimeout(10)
        assert stalled[0].recv(65536).startswith(b"HTTP/1.1 400")
    finally:
        for sock in stalled:
            sock.close()
