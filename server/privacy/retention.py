"""Retention: every kind of personal data is deleted once older than its period.

Raw events, sender views and follow-up reminders that ended or fired go by their account's
retention period (`retention_days`); the
other kinds by the server's RETENTION_<KIND>_DAYS settings (0 keeps that kind): messages (with
their recipients, links, events, summaries, sender views and Gmail ids), inactive contacts (with
their enrichment and addresses), enrichment answers, closed breaches and data-request records.
A row exactly as old as its period is kept, one older is deleted. Expired data-export links'
server-side halves go too, and so do the address-hash keys of ended periods
(tracking/ip_keys.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.common import audit
from server.contacts.enrichment import fill
from server.models import (
    Account,
    Breach,
    Contact,
    ContactAddress,
    DataRequest,
    Enrichment,
    Event,
    FollowUp,
    Link,
    Message,
    MessageSummary,
    Recipient,
    SelfView,
)
from server.privacy import data_requests
from server.tracking import ip_keys
from server.tracking.deidentify import key_period

KINDS = ("messages", "contacts", "enrichment", "breaches", "data_requests")
CHUNK = 500  # message ids per DELETE (SQLite's bound-parameter limit)


@dataclass(frozen=True)
class Periods:
    """Days each kind of data is kept (0: forever), as the RETENTION_<KIND>_DAYS settings say."""

    messages: int = 730
    contacts: int = 1095
    enrichment: int = 365
    breaches: int = 1825
    data_requests: int = 1095

    @classmethod
    def from_settings(cls, settings) -> Periods:
        """The periods of the server's settings."""
        return cls(**{kind: getattr(settings, f"retention_{kind}_days") for kind in KINDS})


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Rows strictly older than this are purged; one exactly this old is kept."""
    return now - timedelta(days=retention_days)


def purge(session: Session, now: datetime, ip_hash_rotation_hours: int = 24) -> dict[int, int]:
    """Delete expired events, sender views and reminders of every account; rows removed per
    account (audited). Address-hash keys of ended periods go as well."""
    removed = {}
    for account_id, days in session.execute(select(Account.id, Account.retention_days)):
        before = cutoff(now, days)
        events = session.execute(
            delete(Event).where(Event.account_id == account_id, Event.occurred_at < before)
        ).rowcount
        messages = select(Message.id).where(Message.account_id == account_id)
        views = session.execute(
            delete(SelfView).where(SelfView.message_id.in_(messages), SelfView.viewed_at < before)
        ).rowcount
        reminders = _follow_ups(session, account_id, before)
        if events or views or reminders:
            removed[account_id] = events + views + reminders
            detail = f"{events} event(s), {views} sender view(s)"
            detail += f", {reminders} follow-up(s)" if reminders else ""
            audit.record(session, account_id, "retention.purge", actor_label="system",
                         detail=f"{detail} older than {days} days", at=now)  # fmt: skip
    data_requests.forget_expired_exports(session, now)
    current = key_period(now.timestamp(), ip_hash_rotation_hours)
    ip_keys.forget_ended(session.connection(), current)
    return removed


def _follow_ups(session: Session, account_id: int, before: datetime) -> int:
    """Reminders that ended (cancelled, done) or fired before `before`; pending ones stay."""
    ended = func.coalesce(FollowUp.ended_at, FollowUp.fired_at)
    return session.execute(
        delete(FollowUp).where(
            FollowUp.account_id == account_id, FollowUp.state != "pending", ended < before
        )
    ).rowcount


def purge_kinds(session: Session, now: datetime, periods: Periods) -> dict[int, dict[str, int]]:
    """Delete every kind of data older than its period, account by account; rows removed per
    account and kind (audited)."""
    purgers = {
        "messages": _messages,
        "contacts": _contacts,
        "enrichment": _enrichment,
        "breaches": _breaches,
        "data_requests": _data_requests,
    }
    removed = {}
    for account_id in list(session.scalars(select(Account.id))):
        counts = {}
        for kind, purger in purgers.items():  # messages first: contacts' activity is read after
            days = getattr(periods, kind)
            if days and (count := purger(session, account_id, cutoff(now, days))):
                counts[kind] = count
        if counts:
            removed[account_id] = counts
            detail = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
            audit.record(session, account_id, "retention.purge", actor_label="system",
                         detail=f"{detail} older than their retention", at=now)  # fmt: skip
    return removed


def _sent():
    """When a message counts from: its sending, else when it was recorded."""
    return func.coalesce(Message.sent_at, Message.created_at)


def _messages(session: Session, account_id: int, before: datetime) -> int:
    """Messages sent before `before`, with everything hanging off them (Gmail ids are theirs)."""
    query = select(Message.id).where(Message.account_id == account_id, _sent() < before)
    ids = list(session.scalars(query))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for model in (Event, MessageSummary, SelfView, FollowUp, Link, Recipient):
            session.execute(delete(model).where(model.message_id.in_(chunk)))
        session.execute(delete(Message).where(Message.id.in_(chunk)))
    session.expire_all()  # loaded messages' collections would still hold the deleted rows
    return len(ids)


def _contacts(session: Session, account_id: int, before: datetime) -> int:
    """Contacts nobody changed and nobody mailed since `before`, with enrichment and addresses."""
    recent = (
        select(Recipient.email)
        .join(Message, Message.id == Recipient.message_id)
        .where(Message.account_id == account_id, _sent() >= before)
    )
    mailed_aliases = select(ContactAddress.contact_id).where(ContactAddress.email.in_(recent))
    query = select(Contact).where(
        Contact.account_id == account_id,
        Contact.updated_at < before,
        Contact.email.not_in(recent),
        Contact.id.not_in(mailed_aliases),
    )
    contacts = list(session.scalars(query))
    for contact in contacts:
        session.delete(contact)  # its enrichment and addresses go with it (ORM cascade)
    session.flush()
    return len(contacts)


def _enrichment(session: Session, account_id: int, before: datetime) -> int:
    """Answers fetched (or asked for, never answered) before `before`, with what they filled in;
    a lookup under way is left to finish."""
    query = select(Enrichment).where(
        Enrichment.account_id == account_id,
        Enrichment.next_attempt_at.is_(None),
        func.coalesce(Enrichment.fetched_at, Enrichment.requested_at) < before,
    )
    rows = list(session.scalars(query))
    for row in rows:
        fill.take_back(row)
        row.contact.enrichment = None  # delete-orphan: the row goes
    session.flush()
    return len(rows)


def _breaches(session: Session, account_id: int, before: datetime) -> int:
    """Breaches closed before `before`, with their actions; open ones stay whatever their age."""
    query = select(Breach).where(
        Breach.account_id == account_id, Breach.status == "closed", Breach.closed_at < before
    )
    breaches = list(session.scalars(query))
    for breach in breaches:
        session.delete(breach)
    session.flush()
    return len(breaches)


def _data_requests(session: Session, account_id: int, before: datetime) -> int:
    """Records of data-subject requests made before `before`."""
    return session.execute(
        delete(DataRequest).where(
            DataRequest.account_id == account_id, DataRequest.created_at < before
        )
    ).rowcount
