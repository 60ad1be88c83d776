"""The rep's activity feed: new opens, clicks and replies on their own mail, and follow-up
reminders that came due without a reply (kind `follow_up_due`), after a cursor. And the
activity history: real opens, clicks, replies and bounces, newest first, a page before a cursor
(a rep's own mail, an admin's whole account), with the updates after a cursor that a page polls.

The cursor is an event id. Event ids start with the hex nanosecond time the hit was received, so
they sort by arrival; the feed only reaches up to `SETTLE` ago, which gives the event writer time
to store every hit received before that bound (and the classifier's context rules time to relabel
scanner bursts), so a hit is never stored behind a cursor already handed out. A reminder's
notice id is made the same way when the job fires it (follow_ups.py); both merge in id order.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from server.models import Event, FollowUp, Message, Recipient, User
from server.models.base import iso
from server.models.message import REAL_VERDICTS
from server.tracking.events import event_view, shown

SETTLE_SECONDS = 5.0
KINDS = ("open", "click", "reply")
FOLLOW_UP_DUE = "follow_up_due"
MAX_LIMIT = 200
HISTORY_KINDS = (*KINDS, "bounce")


def horizon(now_ns: int | None = None) -> str:
    """The exclusive upper bound of the ids the feed hands out now."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    return f"{now_ns - int(SETTLE_SECONDS * 1e9):x}"


def feed(
    session: Session, user: User, after: str | None, limit: int = 100, now_ns: int | None = None
) -> dict:
    """Real opens, clicks and replies on the user's messages, and their reminders come due,
    since `after`, and the next cursor.

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
    rows = [(event.id, _event_item(event, subject)) for event, subject in session.execute(query)]
    rows = sorted(rows + _follow_up_items(session, user, after, bound, limit), key=_id)[:limit]
    full = len(rows) == limit
    # A full page resumes after its last item; otherwise everything up to the bound was seen.
    cursor = rows[-1][0] if full else max(after, bound)
    return {"events": [item for _, item in rows], "cursor": cursor}


def _id(row: tuple[str, dict]) -> str:
    return row[0]


def _event_item(event: Event, subject: str) -> dict:
    return event_view(event) | {"id": event.id, "message_id": event.message_id, "subject": subject}


def _follow_up_items(
    session: Session, user: User, after: str, bound: str, limit: int
) -> list[tuple[str, dict]]:
    """The user's reminders that came due without a reply, as feed items after `after`."""
    query = (
        select(FollowUp, Message.subject)
        .join(Message, Message.id == FollowUp.message_id)
        .where(
            FollowUp.user_id == user.id,
            FollowUp.account_id == user.account_id,
            FollowUp.state == "due",
            FollowUp.notice_id > after,
            FollowUp.notice_id < bound,
        )
        .order_by(FollowUp.notice_id)
        .limit(limit)
    )
    return [(f.notice_id, _follow_up_item(f, subject)) for f, subject in session.execute(query)]


def _follow_up_item(follow_up: FollowUp, subject: str) -> dict:
    """A reminder's notice, shaped like an event (no device, place or link)."""
    return {
        "id": follow_up.notice_id,
        "message_id": follow_up.message_id,
        "subject": subject,
        "at": iso(follow_up.fired_at),
        "kind": FOLLOW_UP_DUE,
        "verdict": None,
        "device": {"type": None, "os": None, "browser": None},
        "location": None,
        "link": None,
        "days": follow_up.days,
    }


def _history_query(user: User, kinds: tuple[str, ...] = HISTORY_KINDS):
    """Real opens, clicks and replies, and bounces (machine-made, but news), on the messages the
    user may see: a rep their own, an admin the account's."""
    real = and_(Event.kind.in_([k for k in kinds if k in KINDS]), Event.verdict.in_(REAL_VERDICTS))
    shown_kinds = or_(real, Event.kind == "bounce") if "bounce" in kinds else real
    query = (
        select(Event, Message.subject)
        .join(Message, Message.id == Event.message_id)
        .where(Event.account_id == user.account_id, Message.account_id == user.account_id)
        .where(shown_kinds)
    )
    return query if user.is_admin else query.where(Message.user_id == user.id)


def history(
    session: Session,
    user: User,
    before: str | None = None,
    limit: int = 50,
    since: datetime | None = None,
    kinds: tuple[str, ...] = HISTORY_KINDS,
) -> dict:
    """A page of activity, newest first: events stored before the cursor `before` (None: up to
    the feed's horizon), happened since `since`; `next` is the following page's cursor."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = _history_query(user, kinds).where(Event.id < (before or horizon()))
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    rows = session.execute(query.order_by(Event.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"events": _items(session, rows), "next": rows[-1][0].id if more else None}


def updates(
    session: Session, user: User, after: str, limit: int = 100, now_ns: int | None = None
) -> dict:
    """The activity stored after the cursor `after`, oldest first, up to the horizon, and the
    next cursor (the feed's rule: a full page resumes after its last item)."""
    limit = max(1, min(limit, MAX_LIMIT))
    bound = horizon(now_ns)
    query = _history_query(user).where(Event.id > after, Event.id < bound)
    rows = session.execute(query.order_by(Event.id).limit(limit)).all()
    cursor = rows[-1][0].id if len(rows) == limit else max(after, bound)
    return {"events": _items(session, rows), "cursor": cursor}


def _items(session: Session, rows) -> list[dict]:
    """History items: the event in words, its message's subject and recipients."""
    mids = {event.message_id for event, _ in rows}
    recipients: dict[str, list[dict]] = {}
    if mids:
        found = session.execute(
            select(Recipient.message_id, Recipient.email, Recipient.name)
            .where(Recipient.message_id.in_(mids))
            .order_by(Recipient.id)
        )
        for mid, email, name in found:
            recipients.setdefault(mid, []).append({"email": email, "name": name})
    return [
        shown(_event_item(event, subject)) | {"recipients": recipients.get(event.message_id, [])}
        for event, subject in rows
    ]
