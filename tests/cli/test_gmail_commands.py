"""The Gmail and account commands: foreground sync, token key rotation, the sending switch."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from server.extensions import db
from server.gmail import auth as gmail_auth
from server.models import Account, AuditEntry, GmailMailbox
from tests.support.google import with_google


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return with_google(settings)


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_gmail_sync_runs_in_the_foreground(cli, mailbox, reported, google):
    db.session.commit()
    result = cli("gmail", "sync", "REP@acme.test")
    assert result.exit_code == 0, result.output
    assert "rep@acme.test: full sync" in result.output and "1 confirmed" in result.output
    again = cli("gmail", "sync")
    assert "incremental sync, 0 messages" in again.output and "2 quota units" in again.output
    missing = cli("gmail", "sync", "nobody@acme.test")
    assert missing.exit_code != 0 and "no connected Gmail" in missing.output


def test_gmail_sync_reports_a_reconnect(cli, mailbox, google):
    db.session.commit()
    google.revoke_all()
    assert "reconnect needed" in cli("gmail", "sync").output
    assert "skipped (reconnect needed)" in cli("gmail", "sync").output


def test_rotate_key_reencrypts_under_the_first_key(app, cli, mailbox):
    old = app.config["LEADCAMP"].token_encryption_keys
    plaintext = gmail_auth.TokenCipher(old).decrypt(mailbox.refresh_token_encrypted)
    new = Fernet.generate_key().decode()
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(token_encryption_keys=(new, *old))
    db.session.commit()
    result = cli("gmail", "rotate-key")
    assert result.exit_code == 0 and "1 mailboxes" in result.output
    db.session.expire_all()
    row = db.session.query(GmailMailbox).one()
    assert gmail_auth.TokenCipher((new,)).decrypt(row.refresh_token_encrypted) == plaintext
    assert gmail_auth.TokenCipher((new,)).decrypt(row.access_token_encrypted)
    with pytest.raises(gmail_auth.GoogleAuthError):
        gmail_auth.TokenCipher(old).decrypt(row.refresh_token_encrypted)


def test_the_sending_switch(cli, rep):
    assert db.session.query(Account).one().sending_enabled is False
    assert "sending is on" in cli("accounts", "sending", "on", "Acme").output
    db.session.expire_all()
    assert db.session.query(Account).one().sending_enabled is True
    cli("accounts", "sending", "off", "Acme")
    db.session.expire_all()
    assert db.session.query(Account).one().sending_enabled is False
    assert cli("accounts", "sending", "on", "Nope").exit_code != 0


def test_a_failing_sync_is_reported_and_fails_the_command(cli, mailbox, google):
    db.session.commit()
    from tests.support.google import NOT_FOUND

    google.fail("getProfile", NOT_FOUND)
    result = cli("gmail", "sync")
    assert result.exit_code == 1
    assert "rep@acme.test: failed: Requested entity was not found." in result.output
    assert "1 of 1 syncs failed" in result.output


def test_the_sending_switch_is_audited(cli, rep):
    cli("accounts", "sending", "on", "Acme")
    cli("accounts", "sending", "on", "Acme")  # no change, no entry
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change"))
    assert [(e.target, e.detail, e.actor) for e in entries] == [
        ("sending_enabled", "False -> True", "system")
    ]
