"""The contacts as a CSV file HubSpot's contact import maps by itself: its own column names for
the profile (Email, First Name, Last Name, Company Name, …) and "Leadcamp …" columns for the
engagement (HubSpot creates or maps them as custom properties on import).

Engagement counts what the contact pages count: real opens and clicks (human and Gmail-proxy
reads, never machine activity), replies and bounces of the messages sent to any of the contact's
addresses; dates are HubSpot's YYYY-MM-DD, in UTC. Cells pass the formula guard of every CSV
written (common/csv_safe.py), and the export is audited like the plain one.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.common import audit, csv_safe
from server.contacts.engagement import scores
from server.models import Contact, ContactAddress, Event, Message, Recipient, User
from server.models.message import REAL_VERDICTS

COLUMNS = (
    "Email",
    "First Name",
    "Last Name",
    "Company Name",
    "Company Domain Name",
    "Job Title",
    "Phone Number",
    "Leadcamp Engagement Score",
    "Leadcamp Emails Sent",
    "Leadcamp Opens",
    "Leadcamp Clicks",
    "Leadcamp Replies",
    "Leadcamp Bounces",
    "Leadcamp Last Email Sent",
    "Leadcamp Last Activity",
)
CHUNK = 500  # contact ids per query (SQLite's bound-parameter limit)


def export(session: Session, account_id: int, now: datetime, actor: User | None = None) -> str:
    """Every contact of the account, HubSpot's way (UTF-8 with a BOM); audited, the caller
    commits."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    query = select(Contact).where(Contact.account_id == account_id).order_by(Contact.email)
    contacts = list(session.scalars(query))
    for start in range(0, len(contacts), CHUNK):
        chunk = contacts[start : start + CHUNK]
        figures = _figures(session, account_id, [c.id for c in chunk], now)
        for contact in chunk:
            writer.writerow(row(contact, figures[contact.id]))
    audit.record(session, account_id, "contacts.export", actor=actor, detail="hubspot")
    return out.getvalue()


def row(contact: Contact, figures: dict) -> tuple:
    """One contact's cells, in COLUMNS' order."""
    first, _, last = contact.name.strip().partition(" ")
    company = contact.company
    return (
        contact.email_display,
        first,
        last.strip(),
        company.name if company else "",
        (company.domain or "") if company else "",
        contact.title,
        contact.phone or "",
        figures["score"],
        figures["sent"],
        figures["open"],
        figures["click"],
        figures["reply"],
        figures["bounce"],
        _day(figures["last_sent"]),
        _day(figures["last_activity"]),
    )


def _figures(session: Session, account_id: int, contact_ids: list[int], now) -> dict[int, dict]:
    """Per contact: score, messages sent, counts per kind, last sending, last real activity."""
    pairs = session.execute(
        select(ContactAddress.contact_id, Message.id, func.coalesce(Message.sent_at,
                                                                     Message.created_at))
        .join(Recipient, Recipient.email == ContactAddress.email)
        .join(Message, Message.id == Recipient.message_id)
        .where(ContactAddress.contact_id.in_(contact_ids), ContactAddress.account_id == account_id,
               Message.account_id == account_id)
        .distinct()
    ).all()  # fmt: skip
    messages: dict[int, dict[str, datetime]] = defaultdict(dict)
    for contact_id, message_id, sent_at in pairs:
        messages[contact_id][message_id] = sent_at
    counts = _counts(session, account_id, {m for _, m, _ in pairs})
    scored = scores(session, account_id, contact_ids, None, now)
    figures = {}
    for contact_id in contact_ids:
        mine = messages.get(contact_id, {})
        kinds = sum((counts.get(m, Counter()) for m in mine), Counter())
        figures[contact_id] = {
            "score": scored[contact_id][0],
            "sent": len(mine),
            **{k: kinds[k] for k in ("open", "click", "reply", "bounce")},
            "last_sent": max(mine.values(), default=None),
            "last_activity": scored[contact_id][1],
        }
    return figures


def _counts(session: Session, account_id: int, message_ids: set[str]) -> dict[str, Counter]:
    """Real opens and clicks, replies and bounces per message."""
    found: dict[str, Counter] = defaultdict(Counter)
    ids = sorted(message_ids)
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Event.message_id, Event.kind, func.count())
            .where(
                Event.account_id == account_id,
                Event.message_id.in_(ids[start : start + CHUNK]),
                (Event.kind.in_(("open", "click")) & Event.verdict.in_(REAL_VERDICTS))
                | Event.kind.in_(("reply", "bounce")),
            )
            .group_by(Event.message_id, Event.kind)
        )
        for message_id, kind, n in rows:
            found[message_id][kind] = n
    return found


def _day(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d") if at else ""
