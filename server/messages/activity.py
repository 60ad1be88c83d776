"""The rep's activity feed: new opens, clicks and replies on their own mail, after a cursor.

The cursor is an event id. Event ids start with the hex nanosecond time the hit was received, so
they sort by arrival; the feed only reaches up to `SETTLE` ago, which gives the event writer time
to store every hit received before that bound (and the classifier's context rules time to relabel
scanner bursts), so a hit is never stored behind a cursor already handed out.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Event, Message, User
from server.models.message import REAL_VERDICTS
from server.tracking.events import event_view

SETTLE_SECONDS = 5.0
KINDS = ("open", "click", "reply")
MAX_LIMIT = 200


def horizon(now_ns: int | None = None) -> str:
    """The exclusive upper bound of the ids the feed hands out now."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    return f"{now_ns - int(SETTLE_SECONDS * 1e9):x}"


def feed(
    session: Session, user: User, after: str | None, limit: int = 100, now_ns: int | None = None
) -> dict:
    """Real opens, clicks and replies on the user's messages since `after`, and the next cursor.

    Without `after`, only the cursor: a new client starts from now instead of replaying history.
    """
    bound = horizon(now_ns)
    if after is None:
        return {"events": [], "cursor": bound}
    limit = max(1, min(limit, MAX_LIMIT))  # the API checks; other callers may not
    query = (
        select(Event, Message.subject)
        .join(Message, Message.id == Event.message_id)
        .where(
            Event.account_id == user.account_id,
            Message.user_id == user.id,
            Event.id > after,
            Event.id < bound,
            Event.kind.in_(KINDS),
            Event.verdict.in_(REAL_VERDICTS),
        )
        .order_by(Event.id)
        .limit(limit)
    )
    rows = session.execute(query).all()
    events = [
        event_view(event) | {"id": event.id, "message_id": event.message_id, "subject": subject}
        for event, subject in rows
    ]
    full = len(rows) == limit
    # A full page resumes after its last event; otherwise everything up to the bound was seen.
    cursor = rows[-1][0].id if full else max(after, bound)
    return {"events": events, "cursor": cursor}
