"""Termination revokes the account's Gmail connections at Google (faked with `responses`)."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.models import GmailMailbox
from server.services import accounts, termination
from server.services.gmail_tokens import TokenCipher
from tests.support.google import google, with_google  # noqa: F401 (the fixture)


@pytest.fixture
def settings(settings):
    """A Google client and a token encryption key are configured."""
    return with_google(settings)


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_termination_revokes_gmail_tokens_at_google(app, google, mode):  # noqa: F811
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    other = accounts.create_user(db.session, "rep@globex.test", "Globex")
    refresh, _ = google.issue("openid https://www.googleapis.com/auth/gmail.metadata")
    cipher = TokenCipher(app.config["LEADCAMP"].token_encryption_keys)
    for user in (rep, other):
        db.session.add(
            GmailMailbox(
                account_id=user.account_id,
                user_id=user.id,
                email=user.email,
                refresh_token_encrypted=cipher.encrypt(refresh if user is rep else "other"),
            )
        )
    db.session.commit()
    result = termination.terminate(db.session, rep.account, "Acme", mode)
    db.session.commit()
    assert result["google"] == 1 and google.revoked == [refresh]
    assert [m.email for m in db.session.query(GmailMailbox)] == ["rep@globex.test"]
