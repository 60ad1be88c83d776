"""Retention: raw events and sender views older than their account's retention period are
deleted.

The per-message summaries stay: they are counts without identity. Expired data-export links'
server-side halves go too, and so do the address-hash keys of ended periods (tracking/ip_keys.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.common import audit
from server.models import Account, Event, Message, SelfView
from server.privacy import data_requests
from server.tracking import ip_keys
from server.tracking.deidentify import key_period


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Events strictly older than this are purged; one exactly this old is kept."""
    return now - timedelta(days=retention_days)


def purge(session: Session, now: datetime, ip_hash_rotation_hours: int = 24) -> dict[int, int]:
    """Delete expired events and sender views of every account; rows removed per account
    (audited). Address-hash keys of ended periods go as well."""
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
        if events or views:
            removed[account_id] = events + views
            audit.record(
                session, account_id, "retention.purge", actor_label="system",
                detail=f"{events} event(s), {views} sender view(s) older than {days} days", at=now,
            )  # fmt: skip
    data_requests.forget_expired_exports(session, now)
    current = key_period(now.timestamp(), ip_hash_rotation_hours)
    ip_keys.forget_ended(session.connection(), current)
    return removed
