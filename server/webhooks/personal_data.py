"""The webhooks' provider of the personal-data registry, and their retention.

Events name a person in their body (a recipient, a contact) and, when they concern one person,
in `subject`. Finding and erasing match both, under every spelling of the address the account
knows; erasing removes the events and their deliveries, pending ones included, so nothing more
about the person leaves. Bodies are removed after WEBHOOK_BODY_RETENTION_DAYS; the delivery log
(status, code, latency: no body) after LOG_DAYS. Termination removes endpoints, events and log.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.common import personal_data
from server.common.personal_data import Provider
from server.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from server.models.base import iso
from server.webhooks.events import erase_person, events_about

LOG_DAYS = 30


def find(session: Session, account_id: int, email: str) -> dict:
    """The events about the person, with their bodies while kept."""
    emails = personal_data.addresses_of(session, account_id, email)
    rows = session.scalars(
        select(WebhookEvent).where(events_about(account_id, emails)).order_by(WebhookEvent.id)
    )
    return {
        "webhook_events": [
            {
                "id": e.id,
                "type": e.type,
                "created_at": iso(e.created_at),
                "payload": json.loads(e.payload) if e.payload else None,
            }
            for e in rows
        ]
    }


def erase(session: Session, account_id: int, email: str) -> int:
    """Remove the person's events and every delivery of them."""
    return erase_person(session, account_id, personal_data.addresses_of(session, account_id, email))


def erase_account(session: Session, account_id: int, mode: str) -> int:
    """Termination, in both modes: endpoints, events and the log go (nothing is worth keeping)."""
    count = session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.account_id == account_id)
    ).rowcount
    count += session.execute(
        delete(WebhookEvent).where(WebhookEvent.account_id == account_id)
    ).rowcount
    session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id))
    return count


PROVIDER = Provider(
    name="webhooks",
    find=find,
    erase=erase,
    erase_account=erase_account,
    tables=("webhook_events", "webhook_deliveries"),
)


def purge(session: Session, now: datetime, body_days: int) -> dict[str, int]:
    """Remove bodies older than `body_days` and log lines (and their events) older than
    LOG_DAYS; pending deliveries keep their event."""
    bodies = session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.created_at < now - timedelta(days=body_days),
               WebhookEvent.payload.is_not(None))
        .values(payload=None)
    ).rowcount  # fmt: skip
    old = now - timedelta(days=LOG_DAYS)
    lines = session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.created_at < old, WebhookDelivery.status != "pending"
        )
    ).rowcount
    kept = select(WebhookDelivery.event_id)
    events = session.execute(
        delete(WebhookEvent).where(WebhookEvent.created_at < old, WebhookEvent.id.not_in(kept))
    ).rowcount
    return {"bodies": bodies, "log": lines, "events": events}
