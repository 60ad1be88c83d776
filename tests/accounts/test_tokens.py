"""API tokens: a token's last use is recorded to the minute, so reads stay reads."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.accounts import users as accounts
from server.extensions import db
from server.models import ApiToken


def test_last_use_is_stamped_at_most_once_a_minute(app, admin):
    with app.app_context():
        token = accounts.create_api_token(db.session, db.session.merge(admin), "poller")
        db.session.commit()
        accounts.user_for_token(db.session, token)
        row = db.session.scalar(select(ApiToken).where(ApiToken.label == "poller"))
        first = row.last_used_at
        assert first is not None
        db.session.commit()
        accounts.user_for_token(db.session, token)
        assert not db.session.dirty, "a call within the minute wrote nothing"
        row.last_used_at = first - timedelta(minutes=2)
        db.session.commit()
        accounts.user_for_token(db.session, token)
        assert row.last_used_at > first
