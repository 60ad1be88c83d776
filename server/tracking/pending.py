"""Signed hits waiting for their message to be reported, held apart from events.

The extension reports a message after Gmail sent it (Undo Send delays that) and retries a report
that failed; Gmail sync adopts mail that was never reported. A hit can therefore arrive first. It
waits here, counted in nobody's data, until its message exists; the batch writer then takes it
back and stores it only if the message belongs to the signing key's rep. Hits still waiting after
`GRACE` are dropped: a message id nobody reports within it is not one of ours to count.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from server.models import Message, PendingHit
from server.tracking.summaries import insert_for

# Longer than any report retry or sync adoption takes, short enough that hits nobody claims
# (a forged id, a message never reported) do not linger.
GRACE = timedelta(days=2)


def hold(conn: Connection, events: list[dict], now: datetime) -> None:
    """Keep hits on messages not reported yet (idempotent on the event id)."""
    if not events:
        return
    rows = [
        {"id": e["id"], "message_id": e["message_id"], "received_at": now, "payload": json.dumps(e)}
        for e in events
    ]
    table = PendingHit.__table__
    conn.execute(insert_for(conn, table).values(rows).on_conflict_do_nothing(index_elements=["id"]))


def take_reported(conn: Connection) -> list[dict]:
    """Remove and return the waiting hits whose message has been reported meanwhile."""
    rows = conn.execute(
        select(PendingHit.id, PendingHit.payload).join(Message, Message.id == PendingHit.message_id)
    ).all()
    if not rows:
        return []
    conn.execute(delete(PendingHit).where(PendingHit.id.in_([r.id for r in rows])))
    return [json.loads(r.payload) for r in rows]


def drop_expired(conn: Connection, now: datetime) -> int:
    """Drop hits that waited longer than the grace period; returns how many."""
    return conn.execute(delete(PendingHit).where(PendingHit.received_at < now - GRACE)).rowcount
