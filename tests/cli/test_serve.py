"""`flask serve` as an operator runs it: Ctrl-C, a child that dies, and SIGKILL of serve itself."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from server.common import signing
from server.extensions import db
from tests.support import auth, click_for, pixel_for, report_message, wait_for
from tests.support.live import (
    ROOT,
    base_env,
    events_of,
    flask_cli,
    free_port,
    http_get,
    http_post,
    wait_until_serving,
)

pytestmark = pytest.mark.server
SECRET = "test-link-secret"


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, children first."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in children.read_text().split()]
        except OSError:  # the thread or the process ended meanwhile
            continue
    return found + [grandchild for child in found for grandchild in descendants(child)]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cmdline(pid: int) -> bytes:
    """The command line of `pid` (empty once it ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def start_serve(env: dict[str, str], port: int) -> subprocess.Popen:
    """`flask serve` on `port`, waited for until its web server, both web workers, the job worker
    and the journal writer run."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_until_serving(serve, port, "/robots.txt", lambda: len(descendants(serve.pid)) >= 5)
    return serve


@pytest.fixture
def serve_env(settings, tmp_path):
    """The environment of a `flask serve` on the test's database; hits stay in the workers'
    buffers until they stop, so every test below checks the hand-over at exit."""
    env = base_env(settings.database_url, tmp_path, SINK_FLUSH_INTERVAL="3600")
    return env | {"JOBS_STORAGE": str(tmp_path / "jobs.db")}


def test_serve_runs_web_and_jobs_and_ctrl_c_stops_both(app, serve_env, kid):
    port = free_port()
    report_message(kid, "q" * 22)
    serve = start_serve(serve_env, port)
    try:
        processes = descendants(serve.pid)
        assert http_get(port, pixel_for(SECRET, kid, "q" * 22))[0] == 200
        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=60)
    finally:
        serve.kill()
    assert serve.returncode == 0, output
    assert "Consumer exiting" in output and "Granian shutdown completed" in output
    assert not any(alive(pid) for pid in processes)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 1


def test_a_child_that_dies_stops_serve_with_an_error(app, serve_env):
    port = free_port()
    serve = start_serve(serve_env, port)
    try:
        processes = descendants(serve.pid)
        children = Path(f"/proc/{serve.pid}/task/{serve.pid}/children").read_text().split()
        (web,) = [int(pid) for pid in children if b"server.webmaster" in cmdline(int(pid))]
        os.kill(web, signal.SIGKILL)
        output, _ = serve.communicate(timeout=60)
    finally:
        serve.kill()
    assert serve.returncode == 1 and "web stopped unexpectedly" in output
    assert not any(alive(pid) for pid in processes)


def test_sigkill_of_serve_leaves_nothing_running_and_the_next_start_stores_every_hit(
    app, serve_env, settings, kid
):
    port, mid = free_port(), signing.new_message_id()
    report_message(kid, mid)
    serve = start_serve(serve_env, port)
    processes = descendants(serve.pid)
    try:
        answers = [http_get(port, pixel_for(SECRET, kid, mid))[0] for _ in range(20)]
        serve.kill()  # as the OOM killer, a stop timeout or `docker kill` would
        killed = time.monotonic()
        while any(alive(pid) for pid in processes) and time.monotonic() - killed < 30:
            time.sleep(0.02)
        gone_after = time.monotonic() - killed
        serve.wait(30)
    finally:
        serve.kill()
    assert answers == [200] * 20
    left = [cmdline(pid) for pid in processes if alive(pid)]
    assert gone_after <= 2, f"{left} ran {gone_after:.1f} s after SIGKILL"
    again = start_serve(serve_env, free_port())
    try:
        deadline = time.monotonic() + 60
        while events_of(settings.database_url, mid) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        again.send_signal(signal.SIGINT)
        again.communicate(timeout=60)
    assert events_of(settings.database_url, mid) == 20


def test_web_settings_reach_granian_and_a_bad_one_is_refused_by_name():
    from config import ConfigError
    from server.cli.serve import web_command

    command = web_command(5000, 3, {"HOST": "::", "WEB_IDLE_TIMEOUT": "2.5"})
    assert command[command.index("--host") + 1] == "::"
    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--http1-header-read-timeout") + 1] == "2500"
    with pytest.raises(ConfigError, match="WEB_MAX_HEADER_BYTES must be a number"):
        web_command(5000, 2, {"WEB_MAX_HEADER_BYTES": "16k"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL locks rows
def test_the_job_worker_waits_longer_for_sqlites_write_lock_than_a_request(app):
    from server.cli.serve import JOB_LOCK_WAIT, patient_sqlite
    from server.extensions import db

    def busy_timeout() -> int:
        with db.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA busy_timeout").scalar()

    assert busy_timeout() == 5000  # a request: a 503 after 5 s
    patient_sqlite(db.engine, JOB_LOCK_WAIT)
    assert busy_timeout() == JOB_LOCK_WAIT * 1000


def modes_under(folder: Path) -> dict[str, int]:
    """The permission bits of `folder` and of every file and folder under it, by path."""
    found = {str(folder): stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        try:
            found[str(path)] = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:  # a journal batch stored and removed meanwhile
            continue
    return found


def test_every_file_the_service_creates_is_its_users_only(app, settings, tmp_path):
    instance = tmp_path / "instance"
    url = settings.database_url
    if url.startswith("sqlite"):  # the default database, in the instance folder
        url = f"sqlite:///{instance / 'leadcamp.db'}"
    env = base_env(url, instance)
    rep = f"rep-{signing.new_message_id()}@acme.test"
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "users", "create", rep, "--account", "Acme")
    token = flask_cli(env, "tokens", "create", rep).strip()
    port = free_port()
    serve, seen = start_serve(env, port), {}
    try:
        kid = json.loads(http_get(port, "/api/v1/signing-key", auth(token))[1])["kid"]
        mid = signing.bound_message_id(signing.derive_key(SECRET, kid))  # as the extension does
        report = {"id": mid, "subject": "Hi", "recipients": [{"email": f"lead-{rep}"}]}
        assert http_post(port, "/api/v1/messages", report, auth(token))[0] == 201  # as sent
        click = click_for(SECRET, kid, mid, f"https://acme.test/?email={rep}")
        assert http_get(port, click)[0] == 302

        def a_batch_seen() -> bool:
            # Batches live until the writer stores them: keep hitting until one is caught.
            assert http_get(port, pixel_for(SECRET, kid, mid))[0] == 200
            seen.update(modes_under(instance))
            return any(path.endswith(".batch") for path in seen)

        assert wait_for(a_batch_seen, every=0.001)
        assert wait_for(lambda: events_of(url, mid) >= 2)
        seen.update(modes_under(instance))
    finally:
        serve.send_signal(signal.SIGINT)
        serve.communicate(timeout=60)
    seen.update(modes_under(instance))
    names = {Path(path).name for path in seen}
    assert {"jobs.db", "journal", ".drainer.lock"} <= names
    if url.startswith("sqlite"):
        assert {"leadcamp.db", "leadcamp.db-wal", "leadcamp.db-shm"} <= names
    loose = {path: oct(mode) for path, mode in seen.items() if mode not in (0o600, 0o700)}
    assert not loose, loose
    folders = [path for path in seen if Path(path).is_dir()]
    assert all(seen[path] == 0o700 for path in folders) and str(instance) in folders
