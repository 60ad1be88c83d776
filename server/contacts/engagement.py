"""Engagement: a contact's timeline of hits on the messages they received, and the one score
of contacts and companies.

Only `human` and `proxy` hits count (DESIGN.md §4); the rest appear in the timeline labelled.
The score's formula (`score`) is documented in docs/insights.md and tested on hand-computed
histories; a company's score is the same formula over its contacts' messages.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Contact, ContactAddress, Event, Message, MessageSummary, Recipient
from server.models.base import iso
from server.models.message import REAL_VERDICTS
from server.tracking.events import event_view, shown

WEIGHTS = {"reply": 10.0, "click": 3.0, "open": 1.0}
HALF_LIFE_DAYS = 14.0
OPENS_PER_MESSAGE = 3  # re-reading one mail many times is not more interest than a click
SCALE = 10.0
TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class Hit:
    """What the score needs of an event."""

    kind: str
    verdict: str
    at: datetime
    message_id: str


def score(hits: Iterable[Hit], now: datetime, recipients: dict[str, float] | None = None) -> int:
    """0..100 from real hits: weighted (reply > click > open), halved every 14 days.

    A hit on a message with n recipients counts 1/n for each: a shared mail's hits are the
    message's, not one person's (DESIGN.md §3). For a company, n is the recipients per
    recipient of the company (4 recipients, 2 of them its people: 2, so half of each hit).
    """
    recipients = recipients or {}
    opens: Counter = Counter()
    raw = 0.0
    for hit in sorted(hits, key=lambda h: h.at, reverse=True):
        if hit.verdict not in REAL_VERDICTS or hit.kind not in WEIGHTS:
            continue
        if hit.kind == "open":
            opens[hit.message_id] += 1
            if opens[hit.message_id] > OPENS_PER_MESSAGE:
                continue
        age_days = max(0.0, (now - hit.at).total_seconds() / 86400)
        share = 1 / max(recipients.get(hit.message_id, 1), 1)
        raw += WEIGHTS[hit.kind] * 0.5 ** (age_days / HALF_LIFE_DAYS) * share
    return round(100 * (1 - math.exp(-raw / SCALE)))


def _messages_of(what, account_id: int, contact_ids: list[int], user_id: int | None):
    """(contact id, `what`) pairs for the messages sent to the contacts that the viewer may see.

    `what` is Message for whole rows, or Message.id where the ids are enough.
    """
    query = (
        select(ContactAddress.contact_id, what)
        .join(Recipient, Recipient.email == ContactAddress.email)
        .join(Message, Message.id == Recipient.message_id)
        .where(
            ContactAddress.contact_id.in_(contact_ids),
            ContactAddress.account_id == account_id,
            Message.account_id == account_id,
        )
        .distinct()
    )
    return query if user_id is None else query.where(Message.user_id == user_id)


def _recipient_counts(session: Session, message_ids: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(Recipient.message_id, func.count())
        .where(Recipient.message_id.in_(message_ids))
        .group_by(Recipient.message_id)
    )
    return dict(rows.all())


def _events(session: Session, account_id: int, message_ids: list[str]) -> list[Event]:
    if not message_ids:
        return []
    return list(
        session.scalars(
            select(Event)
            .where(Event.account_id == account_id, Event.message_id.in_(message_ids))
            .where(Event.verdict != "self")  # the sender's own views are not the contact's
            .order_by(Event.occurred_at.desc())
        )
    )


def _scored_hits(session: Session, account_id: int, message_ids: list[str]) -> list[Hit]:
    """The hits `score` counts (real verdicts, weighted kinds) on the messages, newest first."""
    if not message_ids:
        return []
    rows = session.execute(
        select(Event.kind, Event.verdict, Event.occurred_at, Event.message_id)
        .where(
            Event.account_id == account_id,
            Event.message_id.in_(message_ids),
            Event.verdict.in_(REAL_VERDICTS),
            Event.kind.in_(list(WEIGHTS)),
        )
        .order_by(Event.occurred_at.desc())
    )
    return [Hit(*row) for row in rows]


def _hit(event: Event) -> Hit:
    return Hit(event.kind, event.verdict, event.occurred_at, event.message_id)


def scores(
    session: Session, account_id: int, contact_ids: list[int], user_id: int | None, now: datetime
) -> dict[int, tuple[int, datetime | None]]:
    """Score and last real activity per contact, for a page of contacts in three queries.

    Only scored hits are read: bounces are never real (machine-made), and view, download and
    visit are reserved, never recorded; so the last activity is the detail's.
    """
    pairs = session.execute(_messages_of(Message.id, account_id, contact_ids, user_id)).all()
    by_message: dict[str, set[int]] = defaultdict(set)
    for contact_id, message_id in pairs:
        by_message[message_id].add(contact_id)
    counts = _recipient_counts(session, list(by_message))
    hits: dict[int, list[Hit]] = defaultdict(list)
    for hit in _scored_hits(session, account_id, list(by_message)):
        for contact_id in by_message[hit.message_id]:
            hits[contact_id].append(hit)
    return {
        contact_id: (
            score(hits[contact_id], now, counts),
            max((h.at for h in hits[contact_id]), default=None),
        )
        for contact_id in contact_ids
    }


def company_scores(
    session: Session, account_id: int, company_ids: list[int], user_id: int | None, now: datetime
) -> dict[int, tuple[int, datetime | None]]:
    """Score and last real activity per company: `score` over the messages sent to any of its
    contacts (as the viewer may see them), each counting the share of its recipients that are
    the company's."""
    query = (
        select(Contact.company_id, Message.id, func.count(Recipient.id.distinct()))
        .join(ContactAddress, ContactAddress.contact_id == Contact.id)
        .join(Recipient, Recipient.email == ContactAddress.email)
        .join(Message, Message.id == Recipient.message_id)
        .where(
            Contact.company_id.in_(company_ids),
            Contact.account_id == account_id,
            ContactAddress.account_id == account_id,
            Message.account_id == account_id,
        )
        .group_by(Contact.company_id, Message.id)
    )
    if user_id is not None:
        query = query.where(Message.user_id == user_id)
    theirs: dict[int, dict[str, int]] = defaultdict(dict)
    for company_id, message_id, count in session.execute(query):
        theirs[company_id][message_id] = count
    every = {mid for messages in theirs.values() for mid in messages}
    totals = _recipient_counts(session, list(every))
    hits: dict[str, list[Hit]] = defaultdict(list)
    for hit in _scored_hits(session, account_id, list(every)):
        hits[hit.message_id].append(hit)
    out = {}
    for company_id in company_ids:
        messages = theirs.get(company_id, {})
        found = [h for mid in messages for h in hits[mid]]
        per_member = {mid: totals[mid] / n for mid, n in messages.items()}
        last = max((h.at for h in found), default=None)
        out[company_id] = (score(found, now, per_member), last)
    return out


def engagement(
    session: Session, account_id: int, contact_id: int, user_id: int | None, now: datetime
) -> tuple[dict, list[dict]]:
    """The contact's engagement block (score, counts, timeline) and their messages."""
    pairs = session.execute(_messages_of(Message, account_id, [contact_id], user_id))
    messages = {message.id: message for _, message in pairs}
    events = _events(session, account_id, list(messages))
    real = [e for e in events if e.verdict in REAL_VERDICTS]
    kinds = Counter(e.kind for e in real)
    block = {
        "score": score(map(_hit, events), now, _recipient_counts(session, list(messages))),
        "opens": kinds["open"],
        "clicks": kinds["click"],
        "replies": kinds["reply"],
        # Delivery failures are not interest, so they carry no score; they still tell the rep
        # the address may be dead.
        "bounces": sum(e.kind == "bounce" for e in events),
        "last_activity_at": iso(real[0].occurred_at) if real else None,
        "timeline": [_entry(e, messages[e.message_id]) for e in events[:TIMELINE_LIMIT]],
    }
    return block, _message_rows(session, messages)


def _entry(event: Event, message: Message) -> dict:
    # With its rule (proxied opens carry the proxy's location), and in words for the pages.
    view = shown(event_view(event))
    return view | {
        "message_id": event.message_id,
        "subject": message.subject,
        "url": view["link"],
        "device": view["device"]["type"],
        "region": view["location"] and view["location"]["region"],
    }


def _message_rows(session: Session, messages: dict[str, Message]) -> list[dict]:
    summaries = {
        s.message_id: s
        for s in session.scalars(
            select(MessageSummary).where(MessageSummary.message_id.in_(list(messages)))
        )
    }
    unopened = MessageSummary(opens=0, clicks=0, replies=0, bounces=0)  # no summary written yet
    ordered = sorted(messages.values(), key=lambda m: m.sent_at or m.created_at, reverse=True)
    return [_message_row(m, summaries.get(m.id, unopened)) for m in ordered]


def _message_row(message: Message, summary: MessageSummary) -> dict:
    return {
        "id": message.id,
        "subject": message.subject,
        "sent_at": iso(message.sent_at),
        "gmail_thread_id": message.gmail_thread_id,
        "opens": summary.opens,
        "clicks": summary.clicks,
        "replies": summary.replies,
        "bounces": summary.bounces,
    }
