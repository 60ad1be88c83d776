"""Two accounts for the tenancy tests: Zanzibar (the victim, with one of every row a URL can
name) and Globex (the attackers: a rep and an admin), plus what should never cross between them.

Every string of the victim's that a leak would carry is a *marker*: distinctive enough that
finding it in another account's answer means the answer carries the victim's data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.accounts import team
from server.accounts import users as accounts
from server.common import job_runs, signing
from server.common.mail import Mailer
from server.extensions import db
from server.messages import follow_ups
from server.messages import service as messages
from server.models import Event, User, WebhookDelivery
from server.privacy import breaches, data_requests, subprocessors
from server.webhooks import endpoints as webhooks
from server.webhooks import events as webhook_events

VICTIM = "Zanzibar Widgets"
CONTACT = "ana.marker@zanzibar-customer.test"
SUBJECT = "Quarterly offer zq7f3a"
THREAD = "18c2a5f0e1d2zq7f"
LINK = "https://zanzibar-shop.test/offer-zq7f"
BREACH = "Laptop zq7f lost"
ENTRY = "ZanzibarMailCo"
HOOK = "https://hooks.zanzibar-zq7f.test/in"


@dataclass
class World:
    """The victim's rows (ids a URL can carry), its people, the attackers and the markers."""

    victim_admin: User
    victim_rep: User
    rep: User  # another account's rep
    admin: User  # another account's admin
    ids: dict[str, object] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)


def build(secret_key: str, link_secret: str) -> World:
    """Create both accounts and the victim's rows; commits."""
    victim_admin = accounts.create_user(db.session, "boss@zanzibar.test", VICTIM, admin=True)
    victim_rep = accounts.create_user(db.session, "rep.zq7f@zanzibar.test", VICTIM)
    rep = accounts.create_user(db.session, "rep@globex.test", "Globex")
    admin = accounts.create_user(db.session, "boss@globex.test", "Globex", admin=True)
    db.session.flush()
    world = World(victim_admin, victim_rep, rep, admin)
    world.ids = _victim_rows(victim_admin, victim_rep, secret_key, link_secret)
    db.session.commit()
    kid = world.ids["kid"]
    world.markers = [
        VICTIM, CONTACT, SUBJECT, THREAD, LINK, BREACH, ENTRY, HOOK, victim_rep.email, kid
    ]  # fmt: skip
    return world


def _victim_rows(admin: User, rep: User, secret_key: str, link_secret: str) -> dict:
    tracker = messages.Tracker("http://track.test", (link_secret,))
    data = {
        "subject": SUBJECT,
        "recipients": [{"email": CONTACT, "name": "Ana Marker"}],
        "gmail_thread_id": THREAD,
        "gmail_message_id": "18c2a5f0e1d2m001",
    }
    message, _ = messages.register(db.session, rep, data, tracker)
    # A reminder on it: another account's delete or set must leave it as it is.
    follow_ups.set_follow_up(db.session, rep, message.id, 3, datetime.now(UTC))
    db.session.add(
        Event(
            id=signing.new_message_id(),
            account_id=rep.account_id,
            message_id=message.id,
            kid=message.kid,
            kind="click",
            occurred_at=datetime.now(UTC) - timedelta(hours=1),
            verdict="human",
            link_url=LINK,
            ip_prefix="203.0.113.0",
        )
    )
    mailer = Mailer()
    breach, _ = breaches.record(
        db.session,
        mailer,
        admin,
        {
            "occurred_at": "2026-11-01T10:00",
            "description": BREACH,
            "data_affected": "names",
            "subjects_affected": "prospects",
        },
    )
    action = breaches.add_action(db.session, admin, breach.id, "Rotate the keys")
    entry, _ = subprocessors.add(
        db.session,
        mailer,
        admin,
        {"name": ENTRY, "country": "Ireland", "purpose": "Mail", "safeguard": "EU"},
    )
    invitation, _ = team.invite(db.session, secret_key, admin, "new@zanzibar.test", "rep")
    hook, _ = webhooks.create(db.session, secret_key, admin, {"url": HOOK})
    event_id = webhook_events.emit(db.session, admin.account_id, "contact.updated", {}, CONTACT)
    delivery = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
    )
    return {
        "mid": message.id,
        "kid": message.kid,
        "contact": CONTACT,
        "thread": THREAD,
        "run": _written_export(secret_key, admin),
        "breach": breach.id,
        "action": action.id,
        "entry": entry.id,
        "user": rep.id,
        "invitation": invitation.id,
        "webhook": hook.id,
        "delivery": delivery.id,
        "victim": VICTIM,
    }


def _written_export(secret_key: str, admin: User) -> str:
    """A finished data-subject export with its files, as the worker leaves it."""
    run = data_requests.export(db.session, secret_key, admin, CONTACT)
    db.session.flush()
    data_requests.write_export(db.session, run)
    run.status = "running"
    job_runs.end(db.session, run.id, "succeeded", datetime.now(UTC))
    return run.id


def fingerprint(account_id: int) -> str:
    """A digest of every row the account owns, to see that another account changed none."""
    digest = hashlib.sha256()
    db.session.expire_all()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name == "accounts":
                where = table.c.id == account_id
            elif "account_id" in table.c:
                where = table.c.account_id == account_id
            else:
                continue
            rows = conn.execute(select(table).where(where).order_by(*table.primary_key)).all()
            digest.update(table.name.encode())
            digest.update(json.dumps([list(r) for r in rows], default=str).encode())
    return digest.hexdigest()
