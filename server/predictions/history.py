"""What the models learn from, read from the account's own data: each sent message with its
first real open and first reply, and every real engagement (for best-time).

Real means `human` or `proxy` hits (a click implies an open) and replies; machine, scanner,
prefetch, bot and self hits never count, as everywhere else (models/message.py REAL_VERDICTS).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.common.addresses import company_domain
from server.models import Event, Message, Recipient
from server.models.message import REAL_VERDICTS

HIT_KINDS = ("open", "click")


@dataclass(frozen=True)
class Sent:
    """One sent message: who sent it to whom, when, and when it was first really opened and
    first replied to (unix times)."""

    message_id: str
    user_id: int
    contact: str
    domain: str | None
    sent_at: float
    opened_at: float | None
    replied_at: float | None


@dataclass(frozen=True)
class Engagement:
    """One real open, click or reply by a contact (unix time)."""

    contact: str
    domain: str | None
    kind: str
    at: float


def _real():
    return (Event.kind.in_(HIT_KINDS) & Event.verdict.in_(REAL_VERDICTS)) | (Event.kind == "reply")


def _first_recipients(session: Session, account_id: int, among=None) -> dict[str, str]:
    query = (
        select(Recipient.message_id, Recipient.email)
        .join(Message, Message.id == Recipient.message_id)
        .where(Message.account_id == account_id)
        .order_by(Recipient.id.desc())  # the first recipient written last, so it stays
    )
    if among is not None:
        query = query.where(Recipient.message_id.in_(among))
    return dict(session.execute(query).all())


def _domains():
    """company_domain, remembered per address (an account writes to each contact many times)."""
    return functools.lru_cache(maxsize=None)(company_domain)


def near(account_id: int, user_id: int, email: str):
    """A select of the ids of the account's messages that a live prediction for (rep, contact)
    reads: the rep's, and those to the contact's company (or the contact, on free mail)."""
    domain = company_domain(email)
    to = Recipient.email == email
    if domain:
        to = to | Recipient.email.like(f"%@{domain}") | Recipient.email.like(f"%.{domain}")
    return select(Message.id).where(
        Message.account_id == account_id,
        (Message.user_id == user_id) | Message.id.in_(select(Recipient.message_id).where(to)),
    )


def load(
    session: Session, account_id: int, until: datetime | None = None, among=None
) -> list[Sent]:
    """The account's tracked sent messages (opens tracked), oldest first; with `until`, only
    those sent before it and only what had happened by then; with `among` (a select of message
    ids), only those."""
    query = select(Message.id, Message.user_id, Message.sent_at).where(
        Message.account_id == account_id,
        Message.sent_at.is_not(None),
        Message.tracked.is_(True),
        Message.track_opens.is_(True),
    )
    if until is not None:
        query = query.where(Message.sent_at < until)
    if among is not None:
        query = query.where(Message.id.in_(among))
    messages = session.execute(query).all()
    emails = _first_recipients(session, account_id, among)
    firsts = _first_times(session, account_id, until, among)
    domain, rows = _domains(), []
    for mid, uid, sent_at in messages:
        email = emails.get(mid)
        if email is None:
            continue
        opened, replied = firsts.get(mid, (None, None))
        rows.append(Sent(mid, uid, email, domain(email), sent_at.timestamp(), opened, replied))
    rows.sort(key=lambda r: r.sent_at)
    return rows


def _first_times(session: Session, account_id: int, until: datetime | None, among) -> dict:
    query = (
        select(Event.message_id, Event.kind, func.min(Event.occurred_at))
        .where(Event.account_id == account_id, _real())
        .group_by(Event.message_id, Event.kind)
    )
    if until is not None:
        query = query.where(Event.occurred_at < until)
    if among is not None:
        query = query.where(Event.message_id.in_(among))
    firsts: dict[str, list] = {}
    for mid, kind, at in session.execute(query):
        slot = firsts.setdefault(mid, [None, None])
        i = 1 if kind == "reply" else 0
        ts = at.timestamp()
        slot[i] = ts if slot[i] is None else min(slot[i], ts)
    return {mid: tuple(v) for mid, v in firsts.items()}


def engagements(
    session: Session, account_id: int, emails: dict[str, str], among=None
) -> list[Engagement]:
    """Every real open, click and reply of the account (with `among`, of those messages), by
    the message's first recipient (`emails`: message id -> address), oldest first."""
    query = select(Event.message_id, Event.kind, Event.occurred_at).where(
        Event.account_id == account_id, _real()
    )
    if among is not None:
        query = query.where(Event.message_id.in_(among))
    out, domain = [], _domains()
    for mid, kind, at in session.execute(query):
        email = emails.get(mid)
        if email is not None:
            out.append(Engagement(email, domain(email), kind, at.timestamp()))
    out.sort(key=lambda e: e.at)
    return out


def recipients(session: Session, account_id: int, among=None) -> dict[str, str]:
    """Message id -> its first recipient's address, for the account (or `among` its messages)."""
    return _first_recipients(session, account_id, among)
