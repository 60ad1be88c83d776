"""The real server in a subprocess (the production command line), and load to drive it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from server.cli.serve import web_command
from server.common.process import die_with_parent

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a test server: test secrets, its database, no .env file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env |= {
        "SECRET_KEY": "live-secret",
        "LINK_SIGNING_SECRETS": "test-link-secret",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "FLASK_SKIP_DOTENV": "1",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


def flask_cli(env: dict[str, str], *args: str) -> str:
    """Run `flask --app wsgi ARGS` and return its output."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def http_get(
    port: int, path: str, headers: dict | None = None, host: str = "127.0.0.1"
) -> tuple[int, bytes]:
    """One GET on a fresh connection to host:port."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_post(port: int, path: str, body: dict, headers: dict | None = None) -> tuple[int, bytes]:
    """One JSON POST on a fresh connection to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_serving(
    process: subprocess.Popen,
    port: int,
    path: str,
    ready=lambda: True,
    timeout: float = 120,
    host: str = "127.0.0.1",
) -> None:
    """Wait until `path` answers 200 on `port` and `ready()` holds; fail if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if http_get(port, path, host=host)[0] == 200 and ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def events_of(database_url: str, mid: str) -> int:
    """How many events the database at `database_url` holds for message `mid`."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM events WHERE message_id = :m")
        count = conn.execute(query, {"m": mid}).scalar_one()
    engine.dispose()
    return count


@pytest.fixture
def start_server(app, settings, tmp_path):
    """Starts LiveServers (on the test's migrated database unless told otherwise) and stops
    whatever is left at teardown, so a failing test leaves no server or writer behind."""
    servers = []

    def start(database_url=None, workers=2, target="wsgi:web", **extra: str) -> LiveServer:
        env = base_env(database_url or settings.database_url, tmp_path, **extra)
        server = LiveServer(env, tmp_path / "server.log", workers, target)
        servers.append(server)  # stopped at teardown even when it fails to start
        return server.start()

    yield start
    for server in servers:
        server.stop()


class LiveServer:
    """The web server serving `target` with N workers, and with the journal sink its drainer, as
    `flask serve` runs them; output captured to a log file."""

    def __init__(self, env: dict[str, str], log_path: Path, workers=2, target="wsgi:web"):
        self.env, self.log_path, self.workers = env, log_path, workers
        self.port = free_port()
        self.host = env.get("HOST", "127.0.0.1")
        self.target = target
        self.process: subprocess.Popen | None = None
        self.drainer: subprocess.Popen | None = None

    def start(self) -> LiveServer:
        """Start and wait until it answers."""
        command = web_command(self.port, self.workers, self.env, self.target)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # none outlives a test run that is killed
        )
        if self.env.get("EVENT_SINK", "journal") == "journal" and self.target == "wsgi:web":
            self.drainer = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "sink", "drain"],
                cwd=ROOT,
                env=self.env,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        try:
            wait_until_serving(
                self.process,
                self.port,
                "/robots.txt",
                lambda: len(self.worker_pids()) == self.workers,
                host=self.host,
            )
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {self.log_path.read_text()[-2000:]}") from None
        return self

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        """One request on a fresh connection."""
        return http_get(self.port, path, headers, self.host)

    def worker_pids(self) -> list[int]:
        """The worker processes' ids."""
        # /proc lists children per thread; reading every thread's list keeps this independent of
        # which thread of the server forks.
        pids = []
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            try:
                pids += [int(p) for p in children.read_text().split()]
            except OSError:  # the thread ended meanwhile
                continue
        return sorted(pids)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int:
        """Stop gracefully (SIGINT, as Ctrl-C), the web server before the drainer; returns the
        web server's exit code."""
        if self.process is None:
            return None
        for process in (self.process, self.drainer):
            if process and process.poll() is None:
                process.send_signal(sig)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._log.close()
        return self.process.returncode


def hammer(port: int, paths: list[str], connections: int, headers: dict | None = None) -> dict:
    """Send every path once over `connections` keep-alive connections; count answers by status."""
    counts: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [paths[i::connections] for i in range(connections)]

    def worker(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path in chunk:
            try:
                conn.request("GET", path, headers=headers or {})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            with lock:
                counts[status] = counts.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts
