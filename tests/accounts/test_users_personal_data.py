"""A data-subject request about a rep (one of the account's users): a search finds their user
row, Gmail mailbox, API tokens, self-views and the audit entries about them; erasure anonymizes
the user, disconnects the mailbox and deletes the credentials, and keeps every audit entry."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.accounts import users as accounts
from server.extensions import db
from server.models import ApiToken, AuditEntry, SelfView, User
from server.privacy import data_requests
from tests.support.google import METADATA, SIGN_IN, connect_mailbox, with_google
from tests.support.person import OTHER, message_to


@pytest.fixture
def settings(settings):
    """A Google client, so the rep can have a connected mailbox."""
    return with_google(settings)


def _counts(found: dict) -> dict[str, int]:
    return {kind: len(rows) for part in found.values() for kind, rows in part.items() if rows}


def test_a_search_for_a_rep_finds_what_the_account_holds_about_them(app, admin, rep, google):
    user, _ = rep
    connect_mailbox(app, user, google, [*SIGN_IN, METADATA], name="Rita Rep")
    sent = message_to(user, [(OTHER, "Bo")], "Quarterly review")
    db.session.add(SelfView(message_id=sent.id, user_id=user.id))
    db.session.commit()
    found, _ = data_requests.search(db.session, "k", admin, user.email.upper())
    held = _counts(found)
    assert {"users", "signing_keys", "gmail_mailboxes", "api_tokens", "self_views"} <= set(held)
    assert found["gmail"]["gmail_mailboxes"][0]["google_sub"] == "110169484474386276334"
    actions = {e["action"] for e in found["audit"]["audit_entries"]}
    assert {"token.create", "key.create"} <= actions
    assert "refresh_token" not in str(found) and "digest" not in str(found)


def test_erasing_a_rep_anonymizes_them_and_keeps_the_audit_trail(app, admin, rep, google):
    user, token = rep
    connect_mailbox(app, user, google, [*SIGN_IN, METADATA])
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    data_requests.erase(db.session, "k", admin, user.email)
    db.session.commit()
    db.session.expire_all()
    erased = db.session.get(User, user.id)
    assert (erased.email, erased.name, erased.active) == (
        f"user-{user.id}@anonymized.invalid",
        "",
        False,
    )
    assert accounts.user_for_token(db.session, token) is None
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert google.revoked
    # Append-only: every entry is still there, naming the user by id only.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) > entries
    found, _ = data_requests.search(db.session, "k", admin, "rep@acme.test")
    assert _counts(found) == {}
