"""Calendar periods of reports: days, ISO weeks (from Monday) and months, in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    """One period: its first instant and the first instant after it (UTC)."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """How tables and charts name it: the first day, or the month."""
        return self.start.strftime("%Y-%m" if self.end.day == 1 == self.start.day else "%Y-%m-%d")


def first_day(period: str, day: date) -> date:
    """The first day of the `period` holding `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def _next(period: str, day: date) -> date:
    if period == "day":
        return day + timedelta(days=1)
    if period == "week":
        return day + timedelta(weeks=1)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def series(period: str, day: date, count: int) -> list[Period]:
    """`count` consecutive periods, oldest first, the last one holding `day`."""
    starts = [first_day(period, day)]
    for _ in range(count - 1):
        starts.insert(0, first_day(period, starts[0] - timedelta(days=1)))
    return [Period(_midnight(s), _midnight(_next(period, s))) for s in starts]
