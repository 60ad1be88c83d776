"""Per-message summaries: counts per kind and verdict, first and last real open, the first and
last reply, the last click and bounce, kept current.

The batch writer adds each batch to them in one upsert; a relabelling rebuilds the messages it
touched from their events, so the inbox's status reads never scan events.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Date,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from server.models import Event, Message, MessageSummary, ReportRollup
from server.models.message import REAL_VERDICTS, VERDICTS
from server.tracking.verdicts.context import HIT_KINDS


def account_of(event: dict, owners: dict[str, int]) -> int | None:
    """The event's account: given by an internal producer, or that of its signing key's owner."""
    return event.get("account_id") or owners.get(event.get("kid"))


def to_datetime(ts: float | None) -> datetime | None:
    """A unix time as an aware UTC datetime."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def to_timestamp(at: datetime | None) -> float | None:
    """An aware datetime as unix time."""
    return None if at is None else at.timestamp()


def insert_for(conn: Connection, table):
    """An INSERT of this dialect (SQLite or PostgreSQL), so it can skip or merge conflicts."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


_COUNTER = {"open": "opens", "click": "clicks", "reply": "replies", "bounce": "bounces"}
_LATEST = {
    "open": "last_open_at",
    "click": "last_click_at",
    "reply": "last_reply_at",
    "bounce": "last_bounce_at",
}
_TIMES = ("first_open_at", "first_reply_at", *_LATEST.values())
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
        if kind == "reply" and (s["first_reply_at"] is None or at < s["first_reply_at"]):
            s["first_reply_at"] = at
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
    stmt = insert_for(conn, table).values(rows)
    new, cur = stmt.excluded, table.c
    changes = {c: cur[c] + new[c] for c in _COUNTERS}
    for column in ("first_open_at", "first_reply_at"):
        changes[column] = _earlier(cur[column], new[column])
    for column in _LATEST.values():
        changes[column] = _later(cur[column], new[column])
    changes["updated_at"] = new.updated_at
    conn.execute(stmt.on_conflict_do_update(index_elements=["message_id"], set_=changes))
    ids = [row["message_id"] for row in rows]
    # A summary takes its message's facts once: registration, a repeated report and Gmail's
    # confirmation copy them again when they change, so a batch of hits does not re-read them.
    _copy_facts(conn, ids, missing_only=True)
    mark_report_days(conn, MessageSummary, MessageSummary.message_id.in_(ids))


def copy_message_facts(conn: Connection, message_ids: list[str]) -> None:
    """Copy each message's rep, sending time and tracked parts onto its summary, where reports
    read them by period without a join (one UPDATE; a message not reported yet leaves nulls),
    and mark its report day stale."""
    if not message_ids:
        return
    _copy_facts(conn, message_ids, missing_only=False)
    mark_report_days(conn, Message, Message.id.in_(message_ids))


def _copy_facts(conn: Connection, message_ids: list[str], missing_only: bool) -> None:
    m, s = Message.__table__.c, MessageSummary.__table__.c

    def of(value):
        return select(value).where(m.id == s.message_id).scalar_subquery()

    missing = s.user_id.is_(None) if missing_only else literal(True)
    conn.execute(
        update(MessageSummary.__table__)
        .where(s.message_id.in_(message_ids), missing)
        .values(
            user_id=of(m.user_id),
            sent_at=of(m.sent_at),
            opens_tracked=of(and_(m.tracked, m.track_opens)),
            links_tracked=of(and_(m.tracked, m.track_links)),
        )
    )


def utc_day(conn: Connection, at):
    """The UTC calendar day of a stored time, in this database's own terms."""
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", at), Date)
    return type_coerce(func.date(at), Date)  # SQLite stores UTC text: its first ten characters


def mark_report_days(conn: Connection, table, condition) -> None:
    """Mark stale the report roll-ups of the rep-days (sending day) of `table`'s rows (messages
    or summaries) matching `condition`: one INSERT ... SELECT per call, however many rows."""
    day = utc_day(conn, table.sent_at)
    keys = (
        select(table.account_id, table.user_id, day, literal(1))
        .where(condition, table.sent_at.is_not(None), table.user_id.is_not(None))
        .distinct()
        # In the order a refresh writes them: two writers never wait on each other crosswise.
        .order_by(table.account_id, day, table.user_id)
    )
    rollups = ReportRollup.__table__
    stmt = insert_for(conn, rollups).from_select(["account_id", "user_id", "day", "marks"], keys)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["account_id", "user_id", "day"],
            set_={"marks": rollups.c.marks + 1},
        )
    )


def rebuild_summary(conn: Connection, message_id: str) -> None:
    """Recompute one message's summary from its events (after a relabelling)."""
    rows = conn.execute(
        select(
            Event.message_id, Event.account_id, Event.kind, Event.verdict, Event.occurred_at
        ).where(Event.message_id == message_id)
    ).mappings()
    events = [{**r, "occurred_at": r["occurred_at"].timestamp()} for r in rows]
    if not events:  # no summary is written again, so nothing below marks its day
        mark_report_days(conn, MessageSummary, MessageSummary.message_id == message_id)
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
