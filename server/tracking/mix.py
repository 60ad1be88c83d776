"""The verdict mix per period: how many of an account's hits were real reads, and what the rest
were. Admins read it to see what the classifier does with their traffic."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Event
from server.models.message import REAL_VERDICTS, VERDICTS
from server.tracking.verdicts.context import HIT_KINDS


def _week(column, dialect: str):
    """The Monday (ISO week start) of a timestamp column, as text, in the database's own terms."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("week", column), "YYYY-MM-DD")
    # SQLite: forward to the week's Sunday (the same day on a Sunday), then back six days.
    return func.date(column, "weekday 0", "-6 days")


def weekly(session: Session, account_id: int, weeks: int, now: datetime) -> list[dict]:
    """Per ISO week (newest first, the last `weeks`): hits per verdict and the real share."""
    start = (now - timedelta(weeks=weeks)).replace(hour=0, minute=0, second=0, microsecond=0)
    week = _week(Event.occurred_at, session.get_bind().dialect.name).label("week")
    rows = session.execute(
        select(week, Event.verdict, func.count())
        .where(
            Event.account_id == account_id,
            Event.kind.in_(HIT_KINDS),
            Event.occurred_at >= start,
        )
        .group_by(week, Event.verdict)
    ).all()
    periods: dict[str, dict] = {}
    for label, verdict, count in rows:
        period = periods.setdefault(
            label, {"week": label, "total": 0, **dict.fromkeys(VERDICTS, 0)}
        )
        period[verdict] = period.get(verdict, 0) + count
        period["total"] += count
    for period in periods.values():
        real = sum(period[v] for v in REAL_VERDICTS)
        period["real_share"] = real / period["total"] if period["total"] else 0.0
    return sorted(periods.values(), key=lambda p: p["week"], reverse=True)
