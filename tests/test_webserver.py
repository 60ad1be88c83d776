"""The production web server: workers, shutdown with idle keep-alive connections, failures."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from server.common import signing
from server.webworker import with_access_log
from tests.support import pixel_for
from tests.support.live import ROOT, events_of, free_port, http_get, wait_until_serving

SECRET = "test-link-secret"


def open_idle_connection(port: int, path: str, hits: int) -> http.client.HTTPConnection:
    """A keep-alive connection, as a proxy keeps upstream between requests, left idle after
    `hits` requests for `path`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(hits):
        conn.request("GET", path)
        assert conn.getresponse().read()[:6] == b"GIF89a"
    return conn


@pytest.mark.server
@pytest.mark.parametrize(
    "sink, host", [("journal", "127.0.0.1"), ("embedded", "127.0.0.1"), ("journal", "0.0.0.0")]
)
def test_an_idle_keep_alive_connection_does_not_hold_up_shutdown_or_lose_hits(
    start_server, settings, kid, sink, host
):
    server = start_server(EVENT_SINK=sink, WEB_GRACEFUL_TIMEOUT="1", HOST=host)
    mid = signing.new_message_id()
    idle = open_idle_connection(server.port, pixel_for(SECRET, kid, mid), 3)
    started = time.monotonic()
    code = server.stop()
    elapsed = time.monotonic() - started
    idle.close()
    assert code == 0
    # Past the graceful second the worker hands its batch over and leaves; SQLite's and the
    # writer's own shutdown take the rest.
    assert elapsed < 15, elapsed
    assert events_of(settings.database_url, mid) == 3


@pytest.mark.server
def test_sigints_to_every_process_lose_nothing(start_server, settings, kid, tmp_path):
    """As a supervisor stops a service: a signal to all its processes, maybe more than one."""
    # Only the exit hook can write: the flush interval is out of reach.
    server = start_server(WEB_GRACEFUL_TIMEOUT="2", SINK_FLUSH_INTERVAL="3600")
    mid = signing.new_message_id()
    idle = open_idle_connection(server.port, pixel_for(SECRET, kid, mid), 3)
    workers = server.worker_pids()
    for pid in [*workers, server.process.pid]:
        os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    for pid in workers:  # a second one, while a worker finishes its connection
        with contextlib.suppress(ProcessLookupError):  # the other one is done already
            os.kill(pid, signal.SIGINT)
    code = server.stop(signal.SIGINT)
    idle.close()
    assert code == 0, (tmp_path / "server.log").read_text()[-2000:]
    assert events_of(settings.database_url, mid) == 3


@pytest.mark.server
def test_new_connections_are_refused_while_workers_finish_open_ones(start_server, kid):
    server = start_server(WEB_GRACEFUL_TIMEOUT="4")
    idle = open_idle_connection(server.port, pixel_for(SECRET, kid, "r" * 22), 1)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    started = time.monotonic()
    # Refused at once, so a proxy moves on to another upstream instead of waiting out the drain.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=3).close()
    assert time.monotonic() - started < 1
    idle.close()
    assert server.stop() == 0


@pytest.mark.server
def test_workers_hand_over_their_hits_and_stop_when_the_master_is_killed(
    start_server, settings, kid
):
    server = start_server(WEB_GRACEFUL_TIMEOUT="1")
    workers = server.worker_pids()
    mid = signing.new_message_id()
    idle = open_idle_connection(server.port, pixel_for(SECRET, kid, mid), 4)
    server.process.kill()  # as a supervisor's SIGKILL would
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    idle.close()
    survivors = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    for pid in survivors:  # no orphan may outlive a failing test
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "workers outlived the master"
    server.stop()  # the journal writer stores what the workers handed over
    assert events_of(settings.database_url, mid) == 4


@pytest.mark.server
def test_a_request_in_progress_finishes_before_its_worker_stops(tmp_path):
    hook_file, port = tmp_path / "hooks", free_port()
    command = [
        *(sys.executable, "-m", "server.webserver", "--port", str(port), "--workers", "1"),
        *("--graceful-timeout", "1", "tests.support.slow_app:app"),
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "HOOK_FILE": str(hook_file)},
    )
    try:
        wait_until_serving(server, port, "/")
        answers = []
        slow = threading.Thread(target=lambda: answers.append(http_get(port, "/slow?6")))
        slow.start()
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        time.sleep(2)
        (worker,) = hook_file.read_text().split() if hook_file.exists() else [None]
        assert worker is None, "the worker left while its request was running"
        for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split():
            os.kill(int(pid), signal.SIGINT)  # as a supervisor signalling every process would
        slow.join(timeout=20)
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()
    assert answers == [(200, b"ok")]
    assert len(hook_file.read_text().split()) == 1


def run_server(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.webserver", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.server
def test_an_app_that_cannot_load_stops_the_server_with_an_error():
    result = run_server("--port", str(free_port()), "no_such_module:app")
    assert result.returncode == 1
    assert "could not load no_such_module:app" in result.stderr
    assert "ModuleNotFoundError" in result.stderr


def test_an_ipv6_host_is_refused_with_a_reason():
    result = run_server("--host", "::1", "--port", str(free_port()), "wsgi:app")
    assert result.returncode == 1
    assert "--host must be an IPv4 address or a name for one, not '::1'" in result.stderr


def test_a_port_in_use_is_refused_with_a_reason():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_server("--host", "localhost", "--port", str(port), "wsgi:app")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr


def test_the_access_log_names_method_path_status_and_time_only(caplog):
    def app(environ, start_response):
        start_response("302 Found", [("Location", "https://example.com/")])
        return [b""]

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/c/abc",
        "REMOTE_ADDR": "81.2.69.142",
        "HTTP_USER_AGENT": "Zq7Marker/4.2",
    }
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    with caplog.at_level(logging.INFO, logger="leadcamp.web"):
        body = with_access_log(app)(environ, start_response)
    assert body == [b""] and statuses == ["302 Found"]
    (line,) = caplog.messages
    assert line.startswith('"GET /c/abc" 302 ')
    assert "81.2.69" not in line and "Zq7Marker" not in line
