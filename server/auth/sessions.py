"""The session cookie's side of sign-in: stamped at sign-in, checked on every request that loads
the user, ended everywhere at sign-out (rules in server/accounts/sessions.py)."""

from __future__ import annotations

import time

from flask import current_app, session
from flask_login import login_user, logout_user

from server.accounts import sessions
from server.extensions import db
from server.models import User

# Where the session keeps its stamp: user id, session generation, sign-in time.
STAMP_KEY = "_signed_in"


def begin(user: User) -> None:
    """Sign `user` in on this browser; the session records their generation and the time."""
    login_user(user)
    session[STAMP_KEY] = sessions.stamp(user, time.time())


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the session's user while its stamp is honoured."""
    lifetime = current_app.permanent_session_lifetime
    recorded = session.get(STAMP_KEY)
    return sessions.session_user(db.session, user_id, recorded, time.time(), lifetime)


def end(user: User) -> None:
    """Sign `user` out of every session they have (the bump is committed), then clear this one."""
    sessions.end_sessions(user)
    db.session.commit()
    logout_user()
    session.pop(STAMP_KEY, None)
