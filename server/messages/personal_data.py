"""The messages provider of the personal-data registry: the person's recipient rows, their
messages' events and summaries, links and hits whose URL carries the address in any encoding.

What a message holds about the person, and only that, is theirs: its subject and time, their own
recipient row, never the other recipients. Hits belong to the message (one body for every
recipient), so a hit on a message with other recipients may be someone else's: it is shown by
kind, time and verdict only; on a message to the person alone it is theirs in full, with the
stored IP prefix and hash, location and device.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from server.accounts.personal_data import user_of
from server.common import mentions
from server.common.personal_data import Provider, addresses_of
from server.messages import erasure, rollups
from server.models import Event, FollowUp, Link, Message, Recipient, SelfView
from server.models.base import iso
from server.tracking.events import event_view


def find_messages(session: Session, account_id: int, email: str) -> dict:
    """The person's messages (without other recipients), their hits, and links and hits that
    carry the address."""
    emails = addresses_of(session, account_id, email)
    mids = erasure.message_ids(session, account_id, emails)
    messages = list(
        session.scalars(select(Message).where(Message.id.in_(mids)).order_by(Message.sent_at))
    )
    folded = {e.lower() for e in emails}
    shared = {m.id for m in messages if any(r.email.lower() not in folded for r in m.recipients)}
    found = mentions.forms(emails)
    carrying = mentions.column_mentions(Event.link_url, found)
    events = session.scalars(
        select(Event)
        .where(Event.account_id == account_id)
        .where(Event.message_id.in_(mids) | carrying)
        .order_by(Event.occurred_at)
    )
    links = session.scalars(
        select(Link)
        .join(Message, Message.id == Link.message_id)
        .where(Message.account_id == account_id, mentions.column_mentions(Link.url, found))
    )
    return {
        "messages": [_message(m, folded) for m in messages],
        "events": [_event(e, e.message_id in shared) for e in events],
        "links": [{"message_id": link.message_id, "url": link.url} for link in links],
    }


def _message(message: Message, folded: set[str]) -> dict:
    """A message as the person's data: its subject and time, and their own recipient rows."""
    return {
        "id": message.id,
        "subject": message.subject,
        "sent_at": iso(message.sent_at),
        "sender_user_id": message.user_id,
        "recipients": [
            {"email": r.email, "name": r.name}
            for r in message.recipients
            if r.email.lower() in folded
        ],
    }


def _event(event: Event, shared: bool) -> dict:
    """A hit: in full (with the stored IP prefix and hash) when it can only be the person's."""
    if shared:
        # Possibly another recipient's: what happened and when, nothing about who.
        return {"message_id": event.message_id, "at": iso(event.occurred_at),
                "kind": event.kind, "verdict": event.verdict, "shared_message": True}  # fmt: skip
    return {
        "message_id": event.message_id,
        **event_view(event),
        "ip_prefix": event.ip_prefix,
        "ip_hash": event.ip_hash,
    }


def erase_messages(session: Session, account_id: int, email: str) -> int:
    """Remove the person's recipient rows, their messages' events and waiting hits (hits belong
    to the message, so they may be this person's), every event, waiting hit and link whose URL
    carries the address in any encoding; blank what names them; recompute the summaries of the
    messages that lost events from the events that remain."""
    emails = addresses_of(session, account_id, email)
    mids = erasure.message_ids(session, account_id, emails)
    found = mentions.forms(emails)
    count, touched = erasure.delete_hits(session, account_id, mids, found)
    count += session.execute(delete(SelfView).where(SelfView.message_id.in_(mids))).rowcount
    count += erasure.delete_links(session, account_id, found)
    names = erasure.recipient_names(session, mids, emails)
    count += session.execute(
        delete(Recipient).where(Recipient.message_id.in_(mids), erasure.is_recipient(emails))
    ).rowcount
    erasure.blank_messages(session, account_id, mids, found, names)
    erasure.rebuild_summaries(session, touched | set(mids))
    # The rebuilt summaries marked their rep-days: recompute them now, not at the next report,
    # so no delay of the person's hits outlives the erasure.
    rollups.refresh(session, account_id)
    session.expire_all()
    return count


def rectify_messages(session: Session, account_id: int, email: str, changes: dict) -> int:
    """Correct the display name on the person's recipient rows."""
    emails = addresses_of(session, account_id, email)
    mids = erasure.message_ids(session, account_id, emails)
    return session.execute(
        update(Recipient)
        .where(Recipient.message_id.in_(mids), erasure.is_recipient(emails))
        .values(name=str(changes["name"]).strip()[:200])
    ).rowcount


def find_self_views(session: Session, account_id: int, email: str) -> dict:
    """When the person, as a sender, looked at their own messages."""
    user = user_of(session, account_id, email)
    mine = select(SelfView).where(SelfView.user_id == (user.id if user else None))
    rows = [] if user is None else session.scalars(mine.order_by(SelfView.viewed_at))
    return {
        "self_views": [{"message_id": v.message_id, "viewed_at": iso(v.viewed_at)} for v in rows]
    }


def erase_self_views(session: Session, account_id: int, email: str) -> int:
    """Delete the person's views of their own messages."""
    user = user_of(session, account_id, email)
    if user is None:
        return 0
    return session.execute(delete(SelfView).where(SelfView.user_id == user.id)).rowcount


def _follow_ups_of(session: Session, account_id: int, email: str):
    """A condition: the account's reminders on the person's messages (as a lead) or set by them
    (as a rep)."""
    mids = erasure.message_ids(session, account_id, addresses_of(session, account_id, email))
    user = user_of(session, account_id, email)
    mine = FollowUp.message_id.in_(mids)
    if user is not None:
        mine = or_(mine, FollowUp.user_id == user.id)
    return (FollowUp.account_id == account_id) & mine


def find_follow_ups(session: Session, account_id: int, email: str) -> dict:
    """Reminders on the person's messages, or set by them: which message, when and how it ended."""
    rows = session.scalars(
        select(FollowUp).where(_follow_ups_of(session, account_id, email)).order_by(FollowUp.id)
    )
    return {
        "follow_ups": [
            {"message_id": f.message_id, "user_id": f.user_id, "days": f.days, "state": f.state,
             "created_at": iso(f.created_at), "due_at": iso(f.due_at),
             "fired_at": iso(f.fired_at), "ended_at": iso(f.ended_at)}
            for f in rows
        ]
    }  # fmt: skip


def erase_follow_ups(session: Session, account_id: int, email: str) -> int:
    """Delete the reminders on the person's messages (a reminder waits for their reply) and
    those they set."""
    condition = _follow_ups_of(session, account_id, email)
    return session.execute(delete(FollowUp).where(condition)).rowcount


def erase_account_follow_ups(session: Session, account_id: int, mode: str) -> int:
    """Delete the account's reminders in both modes: working state, nothing to keep."""
    return session.execute(delete(FollowUp).where(FollowUp.account_id == account_id)).rowcount


# Registered before the messages provider: it finds the person's messages by their recipient
# rows, which that provider deletes, and termination deletes the messages reminders point at.
FOLLOW_UPS = Provider(
    name="follow_ups",
    find=find_follow_ups,
    erase=erase_follow_ups,
    erase_account=erase_account_follow_ups,
    tables=("follow_ups",),
)
# Termination deletes or keeps self-views with the messages and users they belong to.
SELF_VIEWS = Provider(
    name="self_views", find=find_self_views, erase=erase_self_views, tables=("self_views",)
)
PROVIDER = Provider(
    name="messages",
    find=find_messages,
    erase=erase_messages,
    erase_account=erasure.erase_account_messages,
    fields=("name",),
    rectify=rectify_messages,
    # Report roll-ups are per rep-day sums and delays: nobody's data by itself, but made of the
    # summaries, so recomputed when an erasure changes them and gone with the messages.
    tables=(
        *("messages", "recipients", "links", "events", "pending_hits", "message_summaries"),
        "report_rollups",
    ),
)
