"""The flask commands a server admin uses."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from server.accounts import users as accounts
from server.extensions import db
from server.models import ApiToken, User
from tests.support import pixel_for
from tests.support.live import ROOT, base_env, free_port, wait_until_serving


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args), catch_exceptions=False)

    return invoke


def test_users_create_and_duplicates(cli):
    result = cli("users", "create", "Boss@Acme.test", "--account", "Acme", "--admin")
    assert result.exit_code == 0 and "created admin boss@acme.test" in result.output
    again = cli("users", "create", "boss@acme.test", "--account", "Acme")
    assert again.exit_code != 0 and "exists already" in again.output
    assert db.session.query(User).one().role == "admin"


def test_tokens_create_prints_a_working_token_once_and_stores_a_digest(cli, client):
    cli("users", "create", "rep@acme.test", "--account", "Acme")
    token = cli("tokens", "create", "rep@acme.test").output.strip()
    assert token.startswith("lc_")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = db.session.query(ApiToken).one()
    assert token not in (row.digest, row.prefix) and row.prefix == token[:10]
    assert cli("tokens", "revoke", token).output.strip() == "revoked"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert cli("tokens", "create", "nobody@acme.test").exit_code != 0


def test_bootstrap_creates_the_first_admin_once(cli, client):
    first = cli("bootstrap", "--email", "owner@acme.test", "--account", "Acme")
    assert "Created admin owner@acme.test" in first.output
    link = first.output.strip().splitlines()[-1].strip()
    assert link.startswith("http://track.test/auth/magic/")
    second = cli("bootstrap", "--email", "other@acme.test")
    assert "Users exist" in second.output
    assert db.session.query(User).count() == 1


def test_keys_rotate(cli):
    cli("users", "create", "rep@acme.test", "--account", "Acme")
    user = accounts.find_user(db.session, "rep@acme.test")
    old = accounts.current_signing_key(db.session, user).kid
    db.session.commit()
    result = cli("keys", "rotate", "rep@acme.test")
    assert result.exit_code == 0
    assert accounts.current_signing_key(db.session, user).kid not in (old, None)


@pytest.mark.server
def test_serve_runs_web_and_jobs_and_ctrl_c_stops_both(app, settings, kid, tmp_path):
    port = free_port()
    env = base_env(settings.database_url, tmp_path, SINK_FLUSH_INTERVAL="3600")
    env["JOBS_STORAGE"] = str(tmp_path / "jobs.db")
    serve = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_serving(serve, port, pixel_for("test-link-secret", kid, "q" * 22))
        children = Path(f"/proc/{serve.pid}/task/{serve.pid}/children").read_text().split()
        assert len(children) == 3  # the web server, the job worker and the journal writer
        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=60)
    finally:
        serve.kill()
    assert serve.returncode == 0, output
    assert "Consumer exiting" in output and "leadcamp.web: stopped" in output
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 1
