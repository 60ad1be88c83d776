"""Retention: raw events older than their account's retention period are deleted.

The per-message summaries stay: they are counts without identity.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.models import Account, Event
from server.services import audit


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Events strictly older than this are purged; one exactly this old is kept."""
    return now - timedelta(days=retention_days)


def purge(session: Session, now: datetime) -> dict[int, int]:
    """Delete expired events of every account; events removed per account (audited)."""
    removed = {}
    for account_id, days in session.execute(select(Account.id, Account.retention_days)):
        count = session.execute(
            delete(Event).where(
                Event.account_id == account_id, Event.occurred_at < cutoff(now, days)
            )
        ).rowcount
        if count:
            removed[account_id] = count
            audit.record(
                session, account_id, "retention.purge", actor_label="system",
                detail=f"{count} event(s) older than {days} days", at=now,
            )  # fmt: skip
    return removed
