"""The flask commands a server admin uses."""

from __future__ import annotations

import pytest

from server.accounts import users as accounts
from server.extensions import db
from server.models import ApiToken, User


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
