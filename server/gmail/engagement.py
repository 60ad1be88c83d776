"""What a received message is to the rep's tracked mail: a reply, an auto-reply, a bounce, or
nothing (sync.py reads the messages; this decides)."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.users import normalize_email
from server.contacts import service as contacts
from server.gmail.mail import Mail, is_automatic, is_bounce
from server.models import Event, GmailMailbox, Message, Recipient
from server.tracking.verdicts.agent import CLASSIFIER_VERSION


def event_key(mailbox: GmailMailbox, mail: Mail, kind: str) -> str:
    """The part of an event's id that one Gmail message always makes: a replay finds it stored."""
    digest = hashlib.sha256(f"{kind}:{mailbox.email}:{mail.id}".encode()).hexdigest()
    return "g" + digest[:15]


def event_id(key: str, now_ns: int | None = None) -> str:
    """A Gmail event's id: the hex time it is recorded, then its key. The time comes first as in
    every event id, so the activity feed, which hands out ids in arrival order, reaches it."""
    return f"{time.time_ns() if now_ns is None else now_ns:016x}{key}"


def unrecorded(session: Session, events: list[dict]) -> list[dict]:
    """The events whose Gmail message has not made one already (a resync replays history)."""
    if not events:
        return []
    stored = session.scalars(
        select(Event.id).where(
            Event.message_id.in_({e["message_id"] for e in events}),
            Event.kind.in_(tuple(_REASONS)),
        )
    )
    # Ids made before the time prefix were "g" + 31 digest digits: their key is the start.
    seen = {i[:16] if i.startswith("g") else i[16:] for i in stored}
    fresh = []
    for event in events:  # one Gmail message listed twice in a batch is one event too
        if event["id"][16:] not in seen:
            seen.add(event["id"][16:])
            fresh.append(event)
    return fresh


def engagement(session: Session, mailbox: GmailMailbox, mail: Mail) -> dict | None:
    """The reply, auto-reply or bounce event a received message makes, if it answers a tracked
    message."""
    bounce = is_bounce(mail)
    mine = select(Message).where(
        Message.user_id == mailbox.user_id, Message.account_id == mailbox.account_id
    )
    if bounce:
        candidates = _bounce_candidates(session, mine, mail)
    else:
        candidates = _reply_candidates(session, mailbox.account_id, mine, mail)
    target = _answered(candidates, mail.at)
    if target is None or not target.tracked:
        return None
    kind = "bounce" if bounce else "auto_reply" if is_automatic(mail) else "reply"
    return {
        "id": event_id(event_key(mailbox, mail, kind)),
        "account_id": target.account_id,
        "message_id": target.id,
        "kid": target.kid,
        "kind": kind,
        "occurred_at": mail.at.timestamp(),
        "verdict": "human" if kind == "reply" else "machine",
        "reasons": _REASONS[kind],
        "classifier_version": CLASSIFIER_VERSION,
        "method": "",
        "link_url": None,
    }


_REASONS = {
    "bounce": "gmail-delivery-failure",
    "reply": "gmail-reply",
    "auto_reply": "gmail-auto-reply",
}


def _bounce_candidates(session: Session, mine, mail: Mail) -> list[Message]:
    """The tracked messages a delivery-failure notice may be about."""
    candidates = list(session.scalars(mine.where(Message.gmail_thread_id == mail.thread_id)))
    if not candidates:
        return _bounced_messages(session, mine, mail)
    # Copies sent one per recipient share a thread: the bounce is the failed recipient's.
    failed = failed_recipients(mail)
    return [m for m in candidates if failed & {r.email for r in m.recipients}] or candidates


def _reply_candidates(session: Session, account_id: int, mine, mail: Mail) -> list[Message]:
    """The tracked messages a received message answers: those of its thread, and those its
    In-Reply-To/References name (Gmail files some replies in a new thread), sent to its sender.

    A colleague writing in the thread is not the lead replying.
    """
    found = {
        m.id: m for m in session.scalars(mine.where(Message.gmail_thread_id == mail.thread_id))
    }
    if mail.referenced:
        named = session.scalars(mine.where(Message.rfc_message_id.in_(mail.referenced)))
        found |= {m.id: m for m in named}
    if not found:
        return []
    spellings = _spellings(session, account_id, mail.sender)
    return [
        m for m in found.values() if spellings & {normalize_email(r.email) for r in m.recipients}
    ]


def _spellings(session: Session, account_id: int, sender: str) -> set[str]:
    """The sender's address and every spelling its contact was seen under."""
    contact = contacts.find_contact(session, account_id, sender)
    if contact is None:
        return {sender}
    known = {contact.email, *(a.email for a in contact.addresses)}
    return {sender, *(normalize_email(a) for a in known)}


def _bounced_messages(session: Session, mine, mail: Mail) -> list[Message]:
    if mail.referenced:
        found = list(session.scalars(mine.where(Message.rfc_message_id.in_(mail.referenced))))
        if found:
            return found
    failed = failed_recipients(mail)
    if not failed:
        return []
    query = mine.join(Recipient).where(Recipient.email.in_(failed), Message.sent_at <= mail.at)
    latest = session.scalars(query.order_by(Message.sent_at.desc()).limit(1)).first()
    return [latest] if latest else []


def failed_recipients(mail: Mail) -> set[str]:
    """The addresses a delivery-failure notice names (X-Failed-Recipients), normalized."""
    failed = {normalize_email(a) for a in mail.headers.get("x-failed-recipients", "").split(",")}
    failed.discard("")
    return failed


def _answered(candidates: list[Message], at: datetime) -> Message | None:
    """The message a reply at `at` answers: the latest one sent before it, else the first."""
    dated = sorted((m for m in candidates if m.sent_at), key=lambda m: m.sent_at)
    before = [m for m in dated if m.sent_at <= at]
    if before:
        return before[-1]
    return dated[0] if dated else (candidates[0] if candidates else None)
