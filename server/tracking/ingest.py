"""Writes batches of events and keeps each message's summary current, in one transaction.

Every sink ends here (the embedded flusher, spool replays, the Redis drain workers, Gmail sync).
Inserts skip ids already stored, so a replayed batch changes nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection, Engine

from server.models import Account, Event, SigningKey, User
from server.tracking.context import load_contexts
from server.tracking.self_views import record_claims
from server.tracking.summaries import account_of, add_to_summaries, relabel, to_datetime
from server.tracking.verdicts import context as context_rules
from server.tracking.verdicts.context import Windows

EVENT_COLUMNS = [c.name for c in Event.__table__.columns]
_AT, _ACCOUNT = EVENT_COLUMNS.index("occurred_at"), EVENT_COLUMNS.index("account_id")


class BatchWriter:
    """Callable that stores a batch of event dicts; returns how many were new."""

    def __init__(self, engine: Engine, windows: Windows | None = None):
        self.engine = engine
        self.windows = windows or Windows()

    def __call__(self, events: list[dict]) -> int:
        """Store `events` (idempotently) and update their messages' summaries."""
        unique = list({e["id"]: e for e in events}.values())
        with self.engine.begin() as conn:
            owners = _owners(conn, unique)
            by_message: dict[str, list[dict]] = defaultdict(list)
            for event in unique:
                if account_of(event, owners):
                    by_message[event["message_id"]].append(event)
            contexts = load_contexts(conn, by_message, self.windows)
            burst_ids: set[str] = set()
            claims: dict[int, str] = {}
            for mid, group in by_message.items():
                outcome = context_rules.apply(group, contexts[mid], self.windows)
                burst_ids |= outcome.burst_ids
                claims |= outcome.claims
            kept = [e for group in by_message.values() for e in group]
            inserted = _insert_events(conn, kept, owners)
            add_to_summaries(conn, [e for e in kept if e["id"] in inserted], owners)
            if burst_ids:
                relabel(conn, burst_ids, "scanner", "link-burst")
            record_claims(conn, {v: e for v, e in claims.items() if e in inserted})
        return len(inserted)


def _owners(conn: Connection, events: list[dict]) -> dict[str, int]:
    """Account per key id, for keys whose rep is active and tracked; other hits are dropped."""
    kids = {e["kid"] for e in events if not e.get("account_id")}
    if not kids:
        return {}
    rows = conn.execute(
        select(SigningKey.kid, SigningKey.account_id)
        .join(User, User.id == SigningKey.user_id)
        .join(Account, Account.id == SigningKey.account_id)
        .where(
            SigningKey.kid.in_(kids),
            SigningKey.revoked_at.is_(None),
            User.active.is_(True),
            Account.tracking_enabled.is_(True),
            or_(User.tracking_enabled.is_(None), User.tracking_enabled.is_(True)),
        )
    )
    return dict(rows.all())


def _insert_events(conn: Connection, events: list[dict], owners: dict[str, int]) -> set[str]:
    if not events:
        return set()
    postgres = conn.dialect.name == "postgresql"
    # SQLite stores times as text in SQLAlchemy's format; PostgreSQL's COPY takes datetimes.
    when = to_datetime if postgres else _sqlite_time
    rows = []
    for e in events:
        # One C loop per row; a column the producer left out (duration, on hits) is NULL.
        row = list(map(e.get, EVENT_COLUMNS))
        row[_AT] = when(e["occurred_at"])
        row[_ACCOUNT] = account_of(e, owners)
        rows.append(row)
    return _copy_events(conn, rows) if postgres else _sqlite_insert(conn, rows)


@lru_cache(maxsize=4)
def _sqlite_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _sqlite_time(ts: float) -> str:
    """SQLAlchemy's SQLite DateTime text, always with microseconds, so text order is time order."""
    second = int(ts)
    return f"{_sqlite_second(second)}.{int((ts - second) * 1e6):06d}"


def _sqlite_insert(conn: Connection, rows: list[list]) -> set[str]:
    # The DB-API directly: SQLAlchemy's per-row parameter processing cost more than the write.
    # Rows added after the highest rowid seen before the insert are the new ones; duplicates
    # (a replayed batch) are ignored. No other writer runs inside this write transaction.
    cursor = conn.connection.driver_connection.cursor()
    before = cursor.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]
    marks = ",".join("?" * len(EVENT_COLUMNS))
    sql = f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})"
    cursor.executemany(sql, rows)
    if cursor.rowcount == len(rows):
        return {row[0] for row in rows}
    return {r[0] for r in cursor.execute("SELECT id FROM events WHERE rowid > ?", (before,))}


def _copy_events(conn: Connection, rows: list[list]) -> set[str]:
    # COPY into a per-connection staging table, then one INSERT … ON CONFLICT: about ten times
    # faster than multi-row INSERTs, and replays still skip ids already stored.
    columns = ", ".join(EVENT_COLUMNS)
    cursor = conn.connection.driver_connection.cursor()
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS events_incoming "
        "(LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    with cursor.copy(f"COPY events_incoming ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        f"INSERT INTO events ({columns}) SELECT {columns} FROM events_incoming "
        "ON CONFLICT (id) DO NOTHING RETURNING id"
    )
    return {row[0] for row in cursor.fetchall()}
