"""Tracked mail as a rep's history has it: messages with recipients and links, and hits stored
with their verdicts, reasons, devices and places, summaries rebuilt as the writer keeps them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from server.accounts import users as accounts
from server.common import signing
from server.contacts import service as contacts
from server.extensions import db
from server.models import Event, Link, Message, Recipient, User
from server.tracking.summaries import rebuild_summary

HITS = ("open", "click")
IPHONE = {"device_type": "mobile", "os_family": "iOS", "browser_family": "Mobile Safari"}
DESKTOP = {"device_type": "desktop", "os_family": "Windows", "browser_family": "Outlook"}


@dataclass
class Hit:
    """One hit `ago` seconds back; its id is the time it was stored, as the writer makes them."""

    kind: str = "open"
    ago: float = 3600
    verdict: str = "human"
    reasons: str = ""
    link: str | None = None
    place: dict = field(default_factory=lambda: {"country": "ES", "region": None, "city": None})
    device: dict = field(default_factory=lambda: dict(IPHONE))


def event_id(ago: float) -> str:
    """An event id stored `ago` seconds back: hex nanoseconds, then a random key."""
    return f"{time.time_ns() - int(ago * 1e9):x}" + secrets.token_hex(6)


def tracked(
    user: User,
    to: str,
    subject: str,
    hits: list[Hit] = (),
    sent_ago: float = 86400,
    links: list[str] = (),
    name: str = "",
) -> Message:
    """A message from `user` to `to` with its hits stored and its summary rebuilt."""
    key = accounts.current_signing_key(db.session, user)
    message = Message(
        id=signing.new_message_id(),
        account_id=user.account_id,
        user_id=user.id,
        kid=key.kid,
        subject=subject,
        sent_at=datetime.now(UTC) - timedelta(seconds=sent_ago),
        recipients=[Recipient(email=to, name=name)],
        links=[Link(position=i, url=url) for i, url in enumerate(links)],
    )
    db.session.add(message)
    contacts.add_recipients(db.session, user.account_id, [(to, name)], enrich=False)
    for hit in hits:
        db.session.add(
            Event(
                id=event_id(hit.ago),
                account_id=user.account_id,
                message_id=message.id,
                kid=key.kid,
                kind=hit.kind,
                occurred_at=datetime.now(UTC) - timedelta(seconds=hit.ago),
                verdict=hit.verdict,
                reasons=hit.reasons,
                link_url=hit.link,
                # Gmail sync's replies and bounces come from no device or place.
                **(hit.place if hit.kind in HITS and hit.verdict != "proxy" else {}),
                **(hit.device if hit.kind in HITS and hit.verdict == "human" else {}),
            )
        )
    db.session.flush()
    rebuild_summary(db.session.connection(), message.id)
    db.session.commit()
    return message
