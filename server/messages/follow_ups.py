"""Follow-up reminders: "remind me if no reply in N days" on a rep's own sent message.

A reminder is set on a message and watches its Gmail thread: a `reply` event (Gmail sync's
record of the lead answering) on the message, or on another of the rep's messages in the same
thread, received after the reminder was set, ends it as `done` without a notice. Otherwise the
periodic job makes it `due` at its time and gives it a notice id, which puts a `follow_up_due`
item in the rep's notifications feed (activity.py). Setting it again re-arms it from now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from server.models import Event, Message, User
from server.models.base import iso
from server.models.follow_up import ACTIVE, FollowUp
from server.tracking.hits import new_event_id

MIN_DAYS, MAX_DAYS = 1, 90
BATCH = 500  # reminders fired per job run; the next minute takes the rest


class FollowUpError(ValueError):
    """A reminder request that cannot be carried out; `code` and `status` for the API."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.status = code, status


def own_message(session: Session, user: User, mid: str) -> Message:
    """The user's own message `mid`; another rep's (an admin's included) or another account's
    is refused as not found, like the other message routes."""
    message = session.scalar(
        select(Message).where(
            Message.id == mid, Message.account_id == user.account_id, Message.user_id == user.id
        )
    )
    if message is None:
        raise FollowUpError("not_found", "No such message of yours.", 404)
    return message


def _of(session: Session, message: Message) -> FollowUp | None:
    """The message's reminder, if it ever had one (one per message)."""
    return session.scalar(select(FollowUp).where(FollowUp.message_id == message.id))


def set_follow_up(session: Session, user: User, mid: str, days: int, now: datetime) -> FollowUp:
    """Remind the user if no reply comes to their message within `days` days from `now`."""
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise FollowUpError(
            "invalid_request", f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}.", 400
        )
    message = own_message(session, user, mid)
    follow_up = _of(session, message)
    if follow_up is None:
        follow_up = FollowUp(account_id=user.account_id, user_id=user.id, message_id=message.id)
        session.add(follow_up)
    follow_up.days, follow_up.due_at, follow_up.state = days, now + timedelta(days=days), "pending"
    follow_up.created_at, follow_up.fired_at, follow_up.ended_at = now, None, None
    follow_up.notice_id = None
    session.flush()
    return follow_up


def cancel(session: Session, user: User, mid: str, now: datetime) -> FollowUp | None:
    """Cancel the reminder on the user's message (if it has one still active)."""
    message = own_message(session, user, mid)
    follow_up = _of(session, message)
    if follow_up is not None and follow_up.state in ACTIVE:
        follow_up.state, follow_up.ended_at = "cancelled", now
        session.flush()
    return follow_up


def view(follow_up: FollowUp | None) -> dict | None:
    """A reminder as the API shows it (None: the message never had one)."""
    if follow_up is None:
        return None
    return {
        "days": follow_up.days,
        "due_at": iso(follow_up.due_at),
        "state": follow_up.state,
        "created_at": iso(follow_up.created_at),
        "fired_at": iso(follow_up.fired_at),
    }


def of_messages(session: Session, user: User, mids: Iterable[str]) -> dict[str, FollowUp]:
    """The user's own reminders on the given messages, by message id (one query)."""
    mids = list(mids)
    if not mids:
        return {}
    rows = session.scalars(
        select(FollowUp).where(FollowUp.user_id == user.id, FollowUp.message_id.in_(mids))
    )
    return {f.message_id: f for f in rows}


def _thread_of(user_id: int, message: Message):
    """A SQL select of the ids of `message` and the rep's other messages in its Gmail thread."""
    ids = select(Message.id).where(Message.user_id == user_id)
    if not message.gmail_thread_id:
        return ids.where(Message.id == message.id)
    return ids.where(
        or_(Message.id == message.id, Message.gmail_thread_id == message.gmail_thread_id)
    )


def _reply_after(follow_up: FollowUp, message: Message):
    """A SQL condition: a reply in the reminder's thread since it was set."""
    return exists().where(
        Event.account_id == follow_up.account_id,
        Event.kind == "reply",
        Event.occurred_at >= follow_up.created_at,
        Event.message_id.in_(_thread_of(follow_up.user_id, message)),
    )


def replied(session: Session, follow_up: FollowUp) -> bool:
    """Whether the lead has replied in the reminder's thread since it was set."""
    message = session.get(Message, follow_up.message_id)
    return bool(session.scalar(select(_reply_after(follow_up, message))))


def fire_due(session: Session, now: datetime) -> dict[str, int]:
    """Fire the pending reminders whose time has come: `done` (silently) where the lead has
    replied, else `due` with a notice for the rep's feed; counts of each."""
    query = (
        select(FollowUp)
        .where(FollowUp.state == "pending", FollowUp.due_at <= now)
        .order_by(FollowUp.due_at)
        .limit(BATCH)
    )
    counts = {"due": 0, "done": 0}
    for follow_up in session.scalars(query).all():
        follow_up.fired_at = now
        if replied(session, follow_up):
            follow_up.state, follow_up.ended_at = "done", now
        else:
            # Made now, when it is committed at once: the feed hands out only ids older than its
            # settling time, so this one is never behind a cursor already given out.
            follow_up.state, follow_up.notice_id = "due", new_event_id()
        counts[follow_up.state] += 1
    session.flush()
    return counts


def end_on_replies(session: Session, replies: list[dict], now: datetime) -> int:
    """End as `done` the active reminders a newly recorded reply answers (the reply's message,
    or the rep's other messages in its thread, set before the reply came); how many."""
    ended = 0
    for reply in replies:
        message = session.get(Message, reply["message_id"])
        if message is None:
            continue
        at = datetime.fromtimestamp(reply["occurred_at"], UTC)
        active = select(FollowUp).where(
            FollowUp.message_id.in_(_thread_of(message.user_id, message)),
            FollowUp.state.in_(ACTIVE),
            FollowUp.created_at <= at,
        )
        for follow_up in session.scalars(active).all():
            follow_up.state, follow_up.ended_at = "done", now
            ended += 1
    session.flush()
    return ended
