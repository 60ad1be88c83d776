"""The sender viewing their own tracked message: it explains at most the one fetch it caused.

The extension's blocking rules already stop the rep's own pixel loads; when one slips through,
Gmail fetches the pixel once, through its image proxy, just after the thread opens. So a view
explains the next Gmail-proxy open shortly after it, and nothing else: the recipient's opens
before it stay what they were, whatever notification made the rep look, and a direct open is
never the rep's Gmail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server.models import Event, Message, SelfView, User
from server.tracking.summaries import relabel
from server.tracking.verdicts.context import (
    HIT_KINDS,
    SelfViewRow,
    claim_self_views,
)

# A view time the extension reports is believed this far into the past (a thread that took a
# moment to report); older or future times are the client's clock, and the server's is used.
MAX_REPORTED_AGE = timedelta(seconds=10)


def record(
    session: Session,
    user: User,
    mid: str,
    at: datetime | None,
    window: float,
    now: datetime | None = None,
) -> int | None:
    """Note the sender viewing `mid` (at `at`, as reported, or `now`); relabel the stored open it
    caused, if any. Returns how many hits became `self` (0 or 1), or None when the message is not
    the user's."""
    message = session.scalar(select(Message).where(Message.id == mid, Message.user_id == user.id))
    if message is None:
        return None
    now = now or datetime.now(UTC)
    if at is None or not now - MAX_REPORTED_AGE <= at <= now:
        at = now
    view = SelfView(message_id=mid, user_id=user.id, viewed_at=at)
    session.add(view)
    session.flush()
    rows = session.execute(
        select(Event.id, Event.kind, Event.verdict, Event.reasons, Event.occurred_at).where(
            Event.message_id == mid,
            Event.kind.in_(HIT_KINDS),
            Event.occurred_at.between(at, at + timedelta(seconds=window)),
            Event.id.not_in(select(SelfView.claimed_event_id).where(
                SelfView.message_id == mid, SelfView.claimed_event_id.is_not(None))),
        )
    ).mappings()  # fmt: skip
    events = [{**r, "occurred_at": r["occurred_at"].timestamp()} for r in rows]
    claims = claim_self_views(events, [SelfViewRow(view.id, at.timestamp())], window)
    if not claims:
        return 0
    view.claimed_event_id = claims[view.id]
    relabel(session.connection(), {claims[view.id]}, "self", "self-view")
    return 1


def record_claims(conn: Connection, claims: dict[int, str]) -> None:
    """Mark which hit each self-view explained (view id -> event id), so it explains no other."""
    for view_id, event_id in claims.items():
        conn.execute(
            update(SelfView).where(SelfView.id == view_id).values(claimed_event_id=event_id)
        )
