"""Writes batches of events and keeps each message's summary current, in one transaction.

Every sink ends here (the embedded flusher, spool replays, the Redis drain workers, Gmail sync).
Inserts skip ids already stored, so a replayed batch changes nothing twice. A hit is stored only
for a reported message of its signing key's rep; one on a message not reported yet waits in
`pending` (the report may follow); any other is dropped and counted, never attributed elsewhere.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection, Engine

from server.models import Account, Event, Message, SigningKey, User
from server.tracking import pending
from server.tracking.context import load_contexts
from server.tracking.self_views import record_claims
from server.tracking.summaries import account_of, add_to_summaries, relabel, to_datetime
from server.tracking.verdicts import context as context_rules
from server.tracking.verdicts.context import Windows
from server.webhooks.hits import emit_hits

EVENT_COLUMNS = [c.name for c in Event.__table__.columns]
_AT, _ACCOUNT = EVENT_COLUMNS.index("occurred_at"), EVENT_COLUMNS.index("account_id")

log = logging.getLogger(__name__)


class BatchWriter:
    """Callable that stores a batch of event dicts; returns how many were new."""

    def __init__(self, engine: Engine, windows: Windows | None = None):
        self.engine = engine
        self.windows = windows or Windows()
        # Hits dropped since start, by reason; the log says the same per batch.
        self.dropped: Counter[str] = Counter()

    def __call__(self, events: list[dict]) -> int:
        """Store `events` (idempotently) and update their messages' summaries."""
        unique = list({e["id"]: e for e in events}.values())
        with self.engine.begin() as conn:
            # Hits that waited for their message are checked like new ones, now that it exists.
            unique += pending.take_reported(conn)
            keys = _keys(conn, unique)
            kept, waiting, dropped = sort_by_owner(unique, keys, _message_owners(conn, unique))
            pending.hold(conn, waiting, datetime.now(UTC))
            inserted = self._store(conn, kept, {kid: key[0] for kid, key in keys.items()})
        self._count(dropped)
        return len(inserted)

    def settle(self, now: datetime) -> int:
        """Store the waiting hits whose message was reported; drop those past the grace period."""
        stored = self([])
        with self.engine.begin() as conn:
            expired = pending.drop_expired(conn, now)
        self._count(Counter({"unreported": expired}))
        return stored

    def _store(self, conn: Connection, kept: list[dict], owners: dict[str, int]) -> set[str]:
        by_message: dict[str, list[dict]] = defaultdict(list)
        for event in kept:
            by_message[event["message_id"]].append(event)
        contexts = load_contexts(conn, by_message, self.windows)
        burst_ids: set[str] = set()
        claims: dict[int, str] = {}
        for mid, group in by_message.items():
            outcome = context_rules.apply(group, contexts[mid], self.windows)
            burst_ids |= outcome.burst_ids
            claims |= outcome.claims
        inserted = _insert_events(conn, kept, owners)
        add_to_summaries(conn, [e for e in kept if e["id"] in inserted], owners)
        if burst_ids:
            relabel(conn, burst_ids, "scanner", "link-burst")
        record_claims(conn, {v: e for v, e in claims.items() if e in inserted})
        # In this transaction: an open's webhook exists exactly when the open does.
        fresh = [e for e in kept if e["id"] in inserted and e["id"] not in burst_ids]
        emit_hits(conn, [(account_of(e, owners), e) for e in fresh])
        return inserted

    def _count(self, dropped: Counter[str]) -> None:
        dropped = +dropped
        if dropped:
            self.dropped.update(dropped)
            # Reasons and counts only: no message id, key or address reaches the log.
            counts = ", ".join(f"{n} {reason}" for reason, n in sorted(dropped.items()))
            log.warning("dropped hits: %s", counts)


def sort_by_owner(
    events: list[dict], keys: dict[str, tuple[int, int]], messages: dict[str, tuple[int, int]]
) -> tuple[list[dict], list[dict], Counter[str]]:
    """Split events into kept, waiting for their message, and dropped (counted by reason).

    A signed hit counts only for a message of the signing key's rep; an internal producer's event
    (Gmail sync's replies and bounces name their account) only for a message of that account."""
    kept, waiting, dropped = [], [], Counter()
    for event in events:
        account = event.get("account_id")
        signer = None if account else keys.get(event.get("kid"))
        owner = messages.get(event["message_id"])
        if not account and signer is None:
            dropped["unknown or untracked key"] += 1
        elif owner is None:
            if signer is None:
                dropped["unknown message"] += 1
            else:
                waiting.append(event)
        elif owner == signer or (account and owner[0] == account):
            kept.append(event)
        else:
            dropped["not the message owner's"] += 1
    return kept, waiting, dropped


def _keys(conn: Connection, events: list[dict]) -> dict[str, tuple[int, int]]:
    """(account, rep) per key id, for keys whose rep is active and tracked; other hits drop."""
    kids = {e["kid"] for e in events if not e.get("account_id")}
    if not kids:
        return {}
    rows = conn.execute(
        select(SigningKey.kid, SigningKey.account_id, SigningKey.user_id)
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
    return {kid: (account, user) for kid, account, user in rows}


def _message_owners(conn: Connection, events: list[dict]) -> dict[str, tuple[int, int]]:
    """(account, rep) per message id of the batch that has been reported."""
    mids = {e["message_id"] for e in events}
    if not mids:
        return {}
    rows = conn.execute(
        select(Message.id, Message.account_id, Message.user_id).where(Message.id.in_(mids))
    )
    return {mid: (account, user) for mid, account, user in rows}


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
