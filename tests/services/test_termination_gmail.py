"""Termination revokes the account's Gmail connections at Google (faked with `responses`)."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.services import accounts, termination

# Gmail connections arrive with the Gmail branch; until it is merged there is nothing to revoke.
gmail_tokens = pytest.importorskip("server.services.gmail_tokens")
google_support = pytest.importorskip("tests.support.google")
google = google_support.google  # the fixture


@pytest.fixture
def settings(settings):
    """A Google client and a token encryption key are configured."""
    return google_support.with_google(settings)


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_termination_revokes_gmail_tokens_at_google(app, google, mode):
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    other = accounts.create_user(db.session, "rep@globex.test", "Globex")
    refresh, _ = google.issue("openid https://www.googleapis.com/auth/gmail.metadata")
    from server.models import GmailMailbox

    cipher = gmail_tokens.TokenCipher(app.config["LEADCAMP"].token_encryption_keys)
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
