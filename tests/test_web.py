"""The production web server as an operator and an attacker meet it: malformed HTTP, limits,
timeouts, IPv6, a killed worker, a reload under load and a hung request."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
import time

import pytest

from server.common import signing
from tests.support import click_for, pixel_for, report_message, wait_for
from tests.support.live import events_of

SECRET = "test-link-secret"
pytestmark = pytest.mark.server


def exchange(port: int, raw: bytes, wait: float = 10, host: str = "127.0.0.1") -> bytes:
    """Send raw bytes on a fresh connection; everything the server answers until it closes or
    stops answering (a closed connection or a pause of `wait` seconds ends the read)."""
    with socket.create_connection((host, port), timeout=wait) as sock:
        sock.sendall(raw)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if received.count(b"HTTP/1.1 ") and b"Connection: close" in raw:
                    continue
        except TimeoutError:
            pass
        return received


def statuses(answer: bytes) -> list[int]:
    """The status codes of every response in `answer`."""
    return [int(part[:3]) for part in answer.split(b"HTTP/1.1 ")[1:]]


CLOSE = b"Connection: close\r\n"
MALFORMED = {
    "NUL in a header": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n" + CLOSE + b"\r\n",
    "obsolete line folding": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n" + CLOSE + b"\r\n",
    "Content-Length too large": b"POST / HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 99999999999999999999999\r\n\r\nabc",
    "Content-Length not a number": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12a\r\n\r\nab",
    "two Content-Lengths": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
    b"Content-Length: 4\r\n\r\nabcd",
    "oversize header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    "oversize request line": b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "not HTTP": b"\x16\x03\x01\x00\x00garbage\r\n\r\n",
    "HTTP/0.9": b"GET /\r\n\r\n",
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_requests_get_a_4xx_and_the_worker_keeps_serving(start_server, kid, name):
    server = start_server(workers=1)
    answer = exchange(server.port, MALFORMED[name])
    assert len(statuses(answer)) == 1 and 400 <= statuses(answer)[0] < 500, answer[:200]
    assert server.get(pixel_for(SECRET, kid, "m" * 22))[0] == 200


def test_pipelined_requests_each_get_their_answer_in_order(start_server):
    server = start_server(workers=1)
    one = b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = exchange(
        server.port, one + one + b"GET /nope HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n"
    )
    assert statuses(answer) == [200, 200, 404]


def test_a_bare_lf_request_is_read_as_rfc_9112_allows(start_server):
    # RFC 9112 section 2.2: a recipient MAY recognise a single LF as a line terminator. The
    # server does, and answers the request it spells, once; nothing hangs or goes unanswered.
    server = start_server(workers=1)
    answer = exchange(server.port, b"GET /robots.txt HTTP/1.1\nHost: x\nConnection: close\n\n")
    assert statuses(answer) == [200]


def test_an_oversize_body_is_refused_before_it_is_read(start_server):
    server = start_server(workers=1)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = b"POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Content-Length: 314572800\r\n\r\n" + b"{" * 65536)
        # Answered with 300 MB still unsent: refused on the headers (no credentials) or on the
        # declared length, never after buffering the body.
        assert statuses(sock.recv(4096))[0] in (401, 413)


def test_an_idle_connection_is_closed_after_the_idle_timeout(start_server):
    server = start_server(workers=1, WEB_IDLE_TIMEOUT="1")
    # Sends nothing: the kernel hands it to the worker after a few seconds, then the idle timeout.
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/robots.txt")
    assert conn.getresponse().read()
    started = time.monotonic()
    assert conn.sock.recv(1) == b"", "the server closed the kept-alive connection"
    assert time.monotonic() - started < 8
    conn.close()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        slow.sendall(b"GET /robots.txt HTTP/1.1\r\n")  # headers that never finish
        assert slow.recv(1) == b""
    with silent:
        assert silent.recv(1) == b"", "the server closed the connection that never spoke"


def test_ipv6_loopback_is_served(start_server, kid):
    server = start_server(workers=1, HOST="::1")
    answer = exchange(
        server.port, b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n", host="::1"
    )
    assert statuses(answer) == [200]


def test_a_killed_worker_is_replaced_and_pixels_keep_answering(start_server, settings, kid):
    server = start_server()
    before = server.worker_pids()
    os.kill(before[0], signal.SIGKILL)
    mid = signing.new_message_id()
    report_message(kid, mid)
    answers = [server.get(pixel_for(SECRET, kid, mid))[0] for _ in range(50)]
    assert answers == [200] * 50
    assert wait_for(lambda: len(set(server.worker_pids()) - {before[0]}) == 2)
    assert server.stop() == 0
    assert events_of(settings.database_url, mid) == 50


def reload_workers(server, answered: list) -> None:
    """SIGHUP the server; return once every worker is new and 50 more requests were answered."""
    before = server.worker_pids()
    server.process.send_signal(signal.SIGHUP)
    assert wait_for(lambda: not set(server.worker_pids()) & set(before), timeout=60)
    count = len(answered)
    assert wait_for(lambda: len(answered) > count + 50)


def test_a_reload_under_load_loses_no_hit(start_server, settings, kid):
    server = start_server(SINK_FLUSH_INTERVAL="3600")  # only the workers' exit hands hits over
    mid = signing.new_message_id()
    report_message(kid, mid)
    pixel, answered, errors, stop = pixel_for(SECRET, kid, mid), [], [], threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                answered.append(server.get(pixel)[0])
            except OSError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert wait_for(lambda: len(answered) > 50)
    for _ in range(3):  # each reload races fresh connections against stopping workers
        reload_workers(server, answered)
    stop.set()
    for thread in threads:
        thread.join()
    assert server.stop() == 0
    assert not errors and set(answered) == {200}
    assert events_of(settings.database_url, mid) == len(answered)


def test_a_hung_request_ends_its_worker_which_is_replaced(start_server, tmp_path):
    hooks = tmp_path / "hooks"
    server = start_server(
        workers=1,
        target="tests.support.slow_app:web",
        WEB_REQUEST_TIMEOUT="1",
        HOOK_FILE=str(hooks),
    )
    (worker,) = server.worker_pids()
    with pytest.raises((OSError, http.client.HTTPException)):
        server.get("/slow?60")  # the connection ends with its worker, long before 60 s
    assert hooks.read_text().split() == [str(worker)], "the timeout hook ran in that worker"
    assert wait_for(lambda: len(server.worker_pids()) == 1 and server.worker_pids() != [worker])
    assert wait_for(lambda: server.get("/pid") == (200, str(server.worker_pids()[0]).encode()))
    assert "past WEB_REQUEST_TIMEOUT" in (tmp_path / "server.log").read_text()


def test_the_access_log_keeps_route_shapes_not_addresses_targets_or_tokens(
    start_server, tmp_path, kid
):
    server = start_server(workers=1, ACCESS_LOG="true")
    address, mid = "nina@prospect.test", signing.new_message_id()
    target = f"https://acme.test/pricing?email={address}"
    click, pixel = click_for(SECRET, kid, mid, target), pixel_for(SECRET, kid, mid)
    magic = "eyJ1c2VyIjo0Mn0.Z3xQ9a.kR8vT2mW5nP1qL7sY4bX0cD6eF"
    paths = [pixel, click, f"/api/v1/contacts/{address}?email={address}", f"/auth/magic/{magic}"]
    assert [server.get(path)[0] for path in paths][:2] == [200, 302]
    log_path = tmp_path / "server.log"
    assert wait_for(lambda: log_path.read_text().count("leadcamp.web:") >= len(paths))
    log = log_path.read_text()
    for secret in (address, "prospect.test", signing.b64encode(target.encode()), mid, magic):
        assert secret not in log
    for sig in (pixel.split(".")[2], click.split("/")[2].split(".")[2]):
        assert sig not in log
    assert f'"GET /o/{kid}.*" 200' in log and f'"GET /c/{kid}.*" 302' in log
    assert '"GET /api/v1/contacts/{address}" 401' in log and "/auth/magic/{token}" in log
