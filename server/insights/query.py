"""What a report request asks for, checked the same way for the page, the API and the CSV."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from server.common.inputs import MAX_ID, whole_number
from server.insights.periods import PERIODS
from server.insights.reports import MAX_PERIODS

DEFAULT_COUNTS = {"day": 14, "week": 8, "month": 6}


class QueryError(ValueError):
    """A report argument that cannot be read; its message says which and why."""


@dataclass(frozen=True)
class Query:
    """period (day/week/month), how many periods, the day the last one holds, and whose."""

    period: str
    count: int
    day: date
    user_id: int | None


def from_args(args: Mapping[str, str], today: date | None = None) -> Query:
    """The query from `period`, `periods`, `date` (YYYY-MM-DD) and `user`; QueryError if bad."""
    period = args.get("period") or "week"
    if period not in PERIODS:
        raise QueryError(f"period must be one of {', '.join(PERIODS)}.")
    count = DEFAULT_COUNTS[period]
    if args.get("periods"):
        count = whole_number(args["periods"], 2, MAX_PERIODS)
        if count is None:
            raise QueryError(f"periods must be a whole number from 2 to {MAX_PERIODS}.")
    day = today or datetime.now(UTC).date()
    if args.get("date"):
        try:
            day = date.fromisoformat(args["date"])
        except ValueError:
            raise QueryError("date must be a day written YYYY-MM-DD.") from None
    user_id = None
    if args.get("user"):
        user_id = whole_number(args["user"], 1, MAX_ID)
        if user_id is None:
            raise QueryError("user must be a user id.")
    return Query(period, count, day, user_id)
