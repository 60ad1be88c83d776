"""Writes batches of events and keeps each message's summary current, in one transaction.

Every sink ends here (the embedded flusher, spool replays, the Redis drain workers, Gmail sync).
Inserts skip ids already stored, so a replayed batch changes nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from server.models import Account, Event, Link, Message, MessageSummary, SelfView, SigningKey, User
from server.models.message import REAL_VERDICTS, VERDICTS
from server.tracking import context_rules
from server.tracking.context_rules import HIT_KINDS, MessageContext, Windows, burst_threshold

EVENT_COLUMNS = [c.name for c in Event.__table__.columns]
_AT, _ACCOUNT = EVENT_COLUMNS.index("occurred_at"), EVENT_COLUMNS.index("account_id")


def _insert(conn: Connection, table):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def to_datetime(ts: float | None) -> datetime | None:
    """A unix time as an aware UTC datetime."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def to_timestamp(at: datetime | None) -> float | None:
    """An aware datetime as unix time."""
    return None if at is None else at.timestamp()


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
            contexts = _contexts(conn, by_message, self.windows)
            burst_ids: set[str] = set()
            for mid, group in by_message.items():
                burst_ids |= context_rules.apply(group, contexts[mid], self.windows)
            kept = [e for group in by_message.values() for e in group]
            inserted = _insert_events(conn, kept, owners)
            add_to_summaries(conn, [e for e in kept if e["id"] in inserted], owners)
            if burst_ids:
                relabel(conn, burst_ids, "scanner", "link-burst")
        return len(inserted)


def account_of(event: dict, owners: dict[str, int]) -> int | None:
    """The event's account: given by an internal producer, or that of its signing key's owner."""
    return event.get("account_id") or owners.get(event.get("kid"))


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


def _contexts(conn: Connection, by_message: dict[str, list[dict]], windows: Windows) -> dict:
    contexts = {mid: MessageContext() for mid in by_message}
    if not contexts:
        return contexts
    mids = list(contexts)
    for mid, sent_at in conn.execute(
        select(Message.id, Message.sent_at).where(Message.id.in_(mids))
    ):
        contexts[mid].sent_at = to_timestamp(sent_at)
    links = select(Link.message_id, func.count()).where(Link.message_id.in_(mids))
    for mid, count in conn.execute(links.group_by(Link.message_id)):
        contexts[mid].link_count = count
    times = [e["occurred_at"] for group in by_message.values() for e in group]
    lo, hi = min(times), max(times)
    views = select(SelfView.message_id, SelfView.viewed_at).where(
        SelfView.message_id.in_(mids),
        SelfView.viewed_at.between(
            to_datetime(lo - windows.self_view), to_datetime(hi + windows.self_view)
        ),
    )
    for mid, viewed_at in conn.execute(views):
        contexts[mid].self_views.append(viewed_at.timestamp())
    window = (to_datetime(lo - windows.burst), to_datetime(hi + windows.burst))
    _recent_clicks(conn, by_message, contexts, window)
    return contexts


def _recent_clicks(conn: Connection, by_message: dict, contexts: dict, window: tuple) -> None:
    """Stored clicks near the batch's, for messages where a burst across links is possible."""
    links: dict[str, set] = {}
    for mid, group in by_message.items():
        urls = {e["link_url"] for e in group if e["kind"] == "click"}
        if urls:
            links[mid] = urls
    if not links:
        return
    near = (Event.message_id.in_(links), Event.kind == "click", Event.occurred_at.between(*window))
    # Distinct links first: a message clicked thousands of times on one link (a campaign's
    # call to action) must not pull every one of those rows into each batch.
    for mid, url in conn.execute(select(Event.message_id, Event.link_url).where(*near).distinct()):
        links[mid].add(url)
    candidates = [
        m for m, urls in links.items() if len(urls) >= burst_threshold(contexts[m].link_count)
    ]
    if not candidates:
        return
    rows = select(Event.id, Event.message_id, Event.occurred_at, Event.link_url, Event.verdict)
    for eid, mid, at, url, verdict in conn.execute(
        rows.where(*near, Event.message_id.in_(candidates))
    ):
        contexts[mid].recent_clicks.append((eid, at.timestamp(), url or "", verdict))


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


_COUNTER = {"open": "opens", "click": "clicks", "reply": "replies", "bounce": "bounces"}
_LATEST = {"open": "last_open_at", "click": "last_click_at", "reply": "last_reply_at"}
_TIMES = ("first_open_at", *_LATEST.values())
_COUNTERS = (*_COUNTER.values(), *(f"n_{v}" for v in VERDICTS))


def summarize(events: list[dict], owners: dict[str, int] | None = None) -> dict[str, dict]:
    """Per-message roll-up of events (kind, verdict, occurred_at): counts and first/last times."""
    out: dict[str, dict] = {}
    for e in events:
        s = out.get(e["message_id"])
        if s is None:
            account = account_of(e, owners or {})
            s = out[e["message_id"]] = _empty_summary(e["message_id"], account)
        kind, at = e["kind"], e["occurred_at"]
        if kind in HIT_KINDS:
            s[f"n_{e['verdict']}"] += 1  # the per-verdict counts are of hits only
            if e["verdict"] not in REAL_VERDICTS:
                continue
            # A click implies an open.
            if s["first_open_at"] is None or at < s["first_open_at"]:
                s["first_open_at"] = at
        if kind in _COUNTER:
            s[_COUNTER[kind]] += 1
        latest = _LATEST.get(kind)
        if latest and (s[latest] is None or at > s[latest]):
            s[latest] = at
    # Times stay unix floats in the loop: one conversion per message, not one per event.
    for s in out.values():
        for column in _TIMES:
            s[column] = to_datetime(s[column])
    return out


def _empty_summary(mid: str, account_id: int) -> dict:
    counts = dict.fromkeys(_COUNTERS, 0)
    return {"message_id": mid, "account_id": account_id, **counts, **dict.fromkeys(_TIMES)}


def _earlier(current, new):
    return case((or_(current.is_(None), and_(new.is_not(None), new < current)), new), else_=current)


def _later(current, new):
    return case((or_(current.is_(None), and_(new.is_not(None), new > current)), new), else_=current)


def add_to_summaries(conn: Connection, events: list[dict], owners: dict | None = None) -> None:
    """Add newly stored events to their messages' summaries (one upsert per batch)."""
    rows = list(summarize(events, owners).values())
    if not rows:
        return
    now = datetime.now(UTC)
    for row in rows:
        row["updated_at"] = now
    table = MessageSummary.__table__
    stmt = _insert(conn, table).values(rows)
    new, cur = stmt.excluded, table.c
    changes = {c: cur[c] + new[c] for c in _COUNTERS}
    changes |= {"first_open_at": _earlier(cur.first_open_at, new.first_open_at)}
    for column in _LATEST.values():
        changes[column] = _later(cur[column], new[column])
    changes["updated_at"] = new.updated_at
    conn.execute(stmt.on_conflict_do_update(index_elements=["message_id"], set_=changes))


def rebuild_summary(conn: Connection, message_id: str) -> None:
    """Recompute one message's summary from its events (after a relabelling)."""
    rows = conn.execute(
        select(
            Event.message_id, Event.account_id, Event.kind, Event.verdict, Event.occurred_at
        ).where(Event.message_id == message_id)
    ).mappings()
    events = [{**r, "occurred_at": r["occurred_at"].timestamp()} for r in rows]
    conn.execute(delete(MessageSummary).where(MessageSummary.message_id == message_id))
    add_to_summaries(conn, events)


def relabel(conn: Connection, event_ids: set[str], verdict: str, reason: str) -> None:
    """Give stored events a new verdict (keeping their reasons) and rebuild their summaries."""
    ids = list(event_ids)
    mids = (
        conn.execute(select(Event.message_id).where(Event.id.in_(ids)).distinct()).scalars().all()
    )
    joined = case((Event.reasons == "", reason), else_=Event.reasons + "," + reason)
    conn.execute(update(Event).where(Event.id.in_(ids)).values(verdict=verdict, reasons=joined))
    for mid in mids:
        rebuild_summary(conn, mid)
