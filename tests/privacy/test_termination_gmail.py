"""Termination revokes the account's Gmail connections at Google (faked with `responses`), once
its database work is committed; pending connect codes and OAuth round trips go too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from server.accounts import users as accounts
from server.common import audit
from server.extensions import db
from server.gmail.tokens import REVOKE_URI, TokenCipher
from server.models import ConnectCode, GmailMailbox, OAuthState, User
from server.privacy import termination
from tests.support.google import google, with_google  # noqa: F401 (the fixture)


@pytest.fixture
def settings(settings):
    """A Google client and a token encryption key are configured."""
    return with_google(settings)


def _mailboxes(app, fake, *users) -> str:
    refresh, _ = fake.issue("openid https://www.googleapis.com/auth/gmail.metadata")
    cipher = TokenCipher(app.config["LEADCAMP"].token_encryption_keys)
    for user in users:
        db.session.add(
            GmailMailbox(
                account_id=user.account_id,
                user_id=user.id,
                email=user.email,
                refresh_token_encrypted=cipher.encrypt(refresh if user is users[0] else "other"),
            )
        )
    return refresh


def _pending_handoffs(user) -> None:
    """A connect code for the extension and a Google round trip, both still open."""
    soon = datetime.now(UTC) + timedelta(minutes=5)
    db.session.add(ConnectCode(digest="c" * 64, user_id=user.id, challenge="x", expires_at=soon))
    db.session.add(
        OAuthState(state="s" * 43, code_verifier="v" * 43, purpose="connect", user_id=user.id,
                   scopes="openid", expires_at=soon)
    )  # fmt: skip


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_termination_revokes_gmail_tokens_at_google(app, google, mode):  # noqa: F811
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    other = accounts.create_user(db.session, "rep@globex.test", "Globex")
    refresh = _mailboxes(app, google, rep, other)
    _pending_handoffs(rep)
    db.session.commit()
    result = termination.terminate(db.session, rep.account, "Acme", mode)
    assert google.revoked == []  # not before the termination is committed
    db.session.commit()
    assert result["google"] == 1 and google.revoked == [refresh]
    assert [m.email for m in db.session.query(GmailMailbox)] == ["rep@globex.test"]
    assert db.session.query(ConnectCode).count() == db.session.query(OAuthState).count() == 0


def test_a_rolled_back_termination_revokes_nothing(app, google):  # noqa: F811
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    _mailboxes(app, google, rep)
    db.session.commit()
    termination.terminate(db.session, rep.account, "Acme", "delete")
    db.session.rollback()
    db.session.commit()  # a later, unrelated commit must not revoke the forgotten tokens either
    assert google.revoked == []
    assert db.session.query(GmailMailbox).count() == 1
    assert db.session.get(User, rep.id).account.terminated_at is None


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ({"status": 200}, "revoked at Google"),
        ({"status": 400, "json": {"error": "invalid_token"}}, "Google answered HTTP 400"),
        ({"status": 500}, "Google answered HTTP 500"),
        ({"body": requests.ConnectionError("refused")}, "Google could not be reached"),
    ],
)
def test_the_audit_trail_says_what_google_answered(app, answer, detail):
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    cipher = TokenCipher(app.config["LEADCAMP"].token_encryption_keys)
    db.session.add(GmailMailbox(account_id=rep.account_id, user_id=rep.id, email=rep.email,
                                refresh_token_encrypted=cipher.encrypt("1//refresh")))  # fmt: skip
    db.session.commit()
    with responses.RequestsMock() as fake:
        fake.add(responses.POST, REVOKE_URI, **answer)
        termination.terminate(db.session, rep.account, "Acme", "delete")
        db.session.commit()
        assert len(fake.calls) == 1
    revoke = audit.search(db.session, rep.account_id, action="gmail.revoke")
    assert [(e.target, detail in e.detail) for e in revoke] == [(f"user #{rep.id}", True)]
    assert revoke[0].detail.startswith("revoked" if answer.get("status") == 200 else "not revoked")
