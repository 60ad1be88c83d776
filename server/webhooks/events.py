"""Emitting webhook events: one outbox row per event and one pending delivery per subscribed
endpoint, written in the caller's own transaction (a Session or a Core Connection), so an event
exists exactly when what it reports was committed. No HTTP here: the delivery job sends them.

Also the scrubbing of what is still pending about a person (an erasure) or about tracking that
was switched off: those deliveries are cancelled and their bodies removed.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update

from server.common import mentions
from server.models import Account, WebhookDelivery, WebhookEndpoint, WebhookEvent
from server.models.base import iso, utcnow
from server.webhooks.signing import new_event_id

# The types built from tracking hits: switching tracking off scrubs their pending deliveries.
TRACKING_TYPES = ("message.opened", "link.clicked")
# Event kinds of the events table and the webhook type each becomes (opens and clicks only
# when their verdict is a real one, see REAL_VERDICTS).
KIND_TYPES = {
    "open": "message.opened",
    "click": "link.clicked",
    "reply": "message.replied",
    "bounce": "message.bounced",
}


def subscribers(conn, account_ids: set[int]) -> dict[int, list[tuple[int, list[str]]]]:
    """Per account, its enabled endpoints and their event types (empty: every type)."""
    if not account_ids:
        return {}
    rows = conn.execute(
        select(WebhookEndpoint.account_id, WebhookEndpoint.id, WebhookEndpoint.event_types)
        .join(Account, Account.id == WebhookEndpoint.account_id)
        .where(
            WebhookEndpoint.account_id.in_(account_ids),
            WebhookEndpoint.enabled.is_(True),
            Account.terminated_at.is_(None),
        )
    )
    found: dict[int, list[tuple[int, list[str]]]] = {}
    for account_id, endpoint_id, types in rows:
        found.setdefault(account_id, []).append((endpoint_id, [t for t in types.split(",") if t]))
    return found


def emit(
    conn,
    account_id: int,
    type_: str,
    data: dict,
    subject: str = "",
    user_id: int | None = None,
    now: datetime | None = None,
    endpoints: list[tuple[int, list[str]]] | None = None,
) -> str | None:
    """Queue one event for every endpoint of the account subscribed to `type_`; its id, or None
    when no endpoint wants it (then nothing is written)."""
    if endpoints is None:
        endpoints = subscribers(conn, {account_id}).get(account_id, [])
    targets = [eid for eid, types in endpoints if not types or type_ in types]
    if not targets:
        return None
    now = now or utcnow()
    event_id = new_event_id()
    body = {"type": type_, "timestamp": iso(now), "data": data}
    conn.execute(
        insert(WebhookEvent).values(
            id=event_id, account_id=account_id, type=type_, subject=subject.lower(),
            user_id=user_id, payload=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            created_at=now,
        )
    )  # fmt: skip
    conn.execute(
        insert(WebhookDelivery),
        [
            {
                "account_id": account_id,
                "endpoint_id": eid,
                "event_id": event_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "error": "",
                "created_at": now,
            }
            for eid in targets
        ],
    )
    return event_id


def events_about(account_id: int, emails: set[str]):
    """The condition for the account's events about any of `emails`: by subject, or named in a
    body still kept in any of the forms an address takes in text (a click's URL encodes it)."""
    lowered = {e.lower() for e in emails}
    named = mentions.column_mentions(WebhookEvent.payload, mentions.forms(emails))
    return (WebhookEvent.account_id == account_id) & or_(WebhookEvent.subject.in_(lowered), named)


def erase_person(session, account_id: int, emails: set[str]) -> int:
    """Remove every event about the person and its deliveries (sent ones' log included)."""
    ids = list(session.scalars(select(WebhookEvent.id).where(events_about(account_id, emails))))
    if not ids:
        return 0
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
    return session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids))).rowcount


def scrub_tracking(session, account_id: int, user_id: int | None = None) -> int:
    """Tracking was switched off (for the account, or one rep): cancel the pending deliveries
    of events built from hits, and remove those events' bodies. Returns deliveries cancelled."""
    query = select(WebhookEvent.id).where(
        WebhookEvent.account_id == account_id, WebhookEvent.type.in_(TRACKING_TYPES)
    )
    if user_id is not None:
        query = query.where(WebhookEvent.user_id == user_id)
    pending = (
        select(WebhookDelivery.event_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.event_id.in_(query))
        .distinct()
    )
    ids = list(session.scalars(pending))
    if not ids:
        return 0
    session.execute(update(WebhookEvent).where(WebhookEvent.id.in_(ids)).values(payload=None))
    return session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.event_id.in_(ids), WebhookDelivery.status == "pending")
        .values(status="cancelled", next_attempt_at=None, error="tracking switched off")
    ).rowcount
