"""Signed-in sessions: what a session records at sign-in, and what it must still match.

A session cookie is signed, not stored: whoever holds a copy holds the session. So each session
records its user, the user's session generation and the time of sign-in, and is honoured only
while the user is active, the generation is unchanged and the sign-in is younger than the
lifetime. Bumping the generation (sign-out, deactivation, reactivation, a role change) ends every
session of the user at once, on every device, copies included.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from server.models import User


def stamp(user: User, now: float) -> list[int]:
    """What a new session records: user id, session generation, sign-in time (epoch seconds)."""
    return [user.id, user.session_generation, int(now)]


def session_user(
    session: Session, user_id: str, recorded, now: float, lifetime: timedelta
) -> User | None:
    """The user a session names while its stamp `recorded` is honoured at `now`, else None."""
    try:
        user = session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    # Refused (the session counts as signed out): a user gone or inactive, or a stamp missing,
    # naming another user or an older generation, or older than the lifetime.
    if user is None or not user.is_active:
        return None
    return user if _honoured(recorded, user, now, lifetime) else None


def _honoured(recorded, user: User, now: float, lifetime: timedelta) -> bool:
    # Sessions from before stamps existed, or from a remember-me cookie, carry none: refused.
    if not isinstance(recorded, list) or len(recorded) != 3:
        return False
    user_id, generation, signed_in = recorded
    if not all(isinstance(value, int) for value in recorded):
        return False
    fresh = now - signed_in < lifetime.total_seconds()
    return user_id == user.id and generation == user.session_generation and fresh


def end_sessions(user: User) -> None:
    """End every session `user` has (the caller commits)."""
    user.session_generation += 1
