"""Report roll-ups: each rep's messages of one UTC day added up, kept exact and fresh.

Whatever changes a message's counts or sending day marks its rep-day stale (the batch writer
once per batch, registering, relabelling, erasure: server/tracking/summaries.py
`mark_report_days`); `refresh` recomputes the stale rep-days from the messages and their
summaries, as reports did per message before: a report refreshes its range first, then reads
reps x days rows (server/insights/reports.py); a periodic job refreshes the rest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Text, and_, case, cast, delete, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server.models import Message, MessageSummary, ReportRollup
from server.models.message import VERDICTS
from server.tracking.summaries import insert_for, mark_report_days, utc_day

MESSAGE_COUNTS = ("sent", "open_base", "click_base")
SUMMARY_COUNTS = ("opened", "clicked", "replied", "bounced", *(f"n_{v}" for v in VERDICTS))
COUNTS = (*MESSAGE_COUNTS, *SUMMARY_COUNTS)
DELAYS = ("open_delays", "reply_delays")
# Rep-days recomputed per run of statements, and the days one run may span.
CHUNK = 1000
SPAN = timedelta(days=31)


def stale(session: Session, account_id: int | None = None, first=None, last=None) -> list:
    """The stale rep-days as (account, rep, day, marks), optionally of one account and range."""
    r = ReportRollup
    query = select(r.account_id, r.user_id, r.day, r.marks).where(r.marks > r.built)
    if account_id is not None:
        query = query.where(r.account_id == account_id)
    if first is not None:
        query = query.where(r.day >= first, r.day <= last)
    return list(session.execute(query.order_by(r.account_id, r.day, r.user_id)))


def refresh(session: Session, account_id: int | None = None, first=None, last=None) -> int:
    """Recompute the stale rep-days (of one account, of days first..last); how many."""
    keys = stale(session, account_id, first, last)
    conn = session.connection()
    for chunk in _chunks(keys):
        _rebuild(conn, chunk)
    return len(keys)


def _chunks(keys: list):
    """The keys (sorted by account and day) in runs of one account over at most SPAN days: each
    run is read by the index on (account, sent_at) over those days alone."""
    chunk: list = []
    for key in keys:
        if chunk and (key[0] != chunk[0][0] or key[2] - chunk[0][2] >= SPAN or len(chunk) >= CHUNK):
            yield chunk
            chunk = []
        chunk.append(key)
    if chunk:
        yield chunk


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def _seconds(conn: Connection):
    """later minus earlier in seconds, in this database's own arithmetic."""
    if conn.dialect.name == "postgresql":
        return lambda later, earlier: func.extract("epoch", later - earlier)
    return lambda later, earlier: (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _rebuild(conn: Connection, keys: list) -> None:
    """Recompute these rep-days from their messages and summaries; each keeps the mark it was
    read at, so a mark made meanwhile leaves it stale for the next refresh."""
    rows = {
        (a, u, d): {"account_id": a, "user_id": u, "day": d, "built": marks}
        | dict.fromkeys(COUNTS, 0)
        | {name: [] for name in DELAYS}
        for a, u, d, marks in keys
    }
    m, s = Message, MessageSummary
    seconds = _seconds(conn)
    sides = (
        (m, (func.count(), _flag(and_(m.tracked, m.track_opens)),
             _flag(and_(m.tracked, m.track_links))), MESSAGE_COUNTS),
        (s, (_flag(and_(s.opens_tracked, s.first_open_at.is_not(None))), _flag(
            and_(s.links_tracked, s.clicks > 0)), _flag(s.replies > 0), _flag(s.bounces > 0),
             *(func.coalesce(func.sum(getattr(s, f"n_{v}")), 0) for v in VERDICTS)),
         SUMMARY_COUNTS),
    )  # fmt: skip
    for table, columns, names in sides:
        day = utc_day(conn, table.sent_at)
        query = select(table.account_id, table.user_id, day, *columns).where(*_of(table, keys))
        for a, u, d, *values in conn.execute(query.group_by(table.account_id, table.user_id, day)):
            if (a, u, d) in rows:
                rows[(a, u, d)].update(zip(names, (v or 0 for v in values), strict=True))
    opened = case(
        (s.opens_tracked & s.first_open_at.is_not(None), seconds(s.first_open_at, s.sent_at))
    )
    query = select(
        s.account_id,
        s.user_id,
        utc_day(conn, s.sent_at),
        opened,
        seconds(s.first_reply_at, s.sent_at),
    ).where(*_of(s, keys), s.first_open_at.is_not(None) | s.first_reply_at.is_not(None))
    for a, u, d, to_open, to_reply in conn.execute(query):
        row = rows.get((a, u, d))
        # The rep's clock stamps sent_at: a hit "before" sending is a skewed clock, not news.
        if row is not None and to_open is not None:
            row["open_delays"].append(max(0.0, float(to_open)))
        if row is not None and to_reply is not None:
            row["reply_delays"].append(max(0.0, float(to_reply)))
    for row in rows.values():
        for name in DELAYS:
            row[name].sort()  # sorted runs: a report's merge of them sorts in linear time
    _store(conn, list(rows.values()))


def _of(table, keys: list) -> list:
    """Conditions reading the rows of these rep-days (one account's, SPAN days at most) by the
    index on (account, sent_at); rows of other rep-days within are read and left out."""
    first, last = keys[0][2], keys[-1][2]
    return [
        table.account_id == keys[0][0],
        table.sent_at >= _midnight(first),
        table.sent_at < _midnight(last + timedelta(days=1)),
        table.user_id.in_({k[1] for k in keys}),
    ]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _store(conn: Connection, rows: list[dict]) -> None:
    if not rows:
        return
    table = ReportRollup.__table__
    stmt = insert_for(conn, table).values(rows)
    names = (*COUNTS, *DELAYS, "built")
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["account_id", "user_id", "day"],
            set_={name: stmt.excluded[name] for name in names},
        )
    )


def mark_account(session: Session, account_id: int) -> None:
    """Mark stale every rep-day the account's messages and summaries have (a backfill, or
    after termination deleted its messages)."""
    conn = session.connection()
    for table in (Message, MessageSummary):
        mark_report_days(conn, table, table.account_id == account_id)


def drop_account(session: Session, account_id: int) -> None:
    """Delete the account's roll-ups, then mark again the rep-days its remaining rows have."""
    session.execute(delete(ReportRollup).where(ReportRollup.account_id == account_id))
    mark_account(session, account_id)


def sums(session: Session, account_id: int, user_id: int | None, starts: list[date], end: date):
    """The COUNTS added up per (rep, period) in the database: (rep, period index, *COUNTS),
    the periods being the days from each of `starts` to the next (the last to `end`)."""
    r = ReportRollup
    bucket = case(*((r.day < day, i) for i, day in enumerate([*starts[1:], end])))
    counts = (func.sum(getattr(r, n)) for n in COUNTS)
    query = select(r.user_id, bucket, *counts).where(*_range(account_id, user_id, starts[0], end))
    return session.execute(query.group_by(r.user_id, bucket))


def delays(session: Session, account_id: int, user_id: int | None, first: date, end: date):
    """(rep, day, *DELAYS as their JSON text) of the days from first to end that have any:
    parsed by the caller, once per rep and period."""
    r = ReportRollup
    texts = [cast(getattr(r, n), Text) for n in DELAYS]
    query = select(r.user_id, r.day, *texts).where(*_range(account_id, user_id, first, end))
    return session.execute(query.where(or_(*(t != "[]" for t in texts))))


def _range(account_id: int, user_id: int | None, first: date, end: date) -> list:
    r = ReportRollup
    where = [r.account_id == account_id, r.day >= first, r.day < end]
    return where if user_id is None else [*where, r.user_id == user_id]
