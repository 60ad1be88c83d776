"""Adopting tracked mail the extension never reported, by the open pixel in its body.

Only where the scope allows: reading a body needs `gmail.readonly` (asked for only when
GMAIL_READ_BODIES is on; a restricted scope, see docs/google-setup.md). The body of a sent
message the sync could not match is searched for our own pixel URL; a genuine signature by one
of this rep's key ids names the message id its opens and clicks already carry, so the message
is recorded under that very id, with its links, and every hit it received counts for it.
Nothing else of the body is kept.
"""

from __future__ import annotations

import base64
import logging
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.common import signing
from server.gmail.auth import METADATA, READONLY
from server.gmail.client import GmailApiError, GmailClient
from server.gmail.mail import Mail, confirm
from server.messages.service import Tracker
from server.models import GmailMailbox, Link, Message, SigningKey

log = logging.getLogger(__name__)

# Any host: pixels and links point at the account's tracking domain when it has one, at
# PUBLIC_URL otherwise, and mail sent before the domain changed carries the old one. A token
# is ours only if its signature verifies, wherever it points.
_PIXEL = re.compile(r"/o/" + signing.TOKEN_PATTERN.pattern + r"\.gif")
_CLICK = re.compile(r"/c/" + signing.TOKEN_PATTERN.pattern + r"/([A-Za-z0-9_-]+)")


def can_read_bodies(mailbox: GmailMailbox) -> bool:
    """Whether the mailbox's grant lets the sync read message bodies.

    A grant holding gmail.metadata besides gmail.readonly cannot: Gmail answers format=FULL
    with 403 "Metadata scope doesn't allow format FULL" while metadata is granted at all.
    """
    scopes = mailbox.scopes.split()
    return READONLY in scopes and METADATA not in scopes


def html_parts(payload: dict) -> list[str]:
    """The decoded text/html parts of a Gmail message payload (format=full)."""
    found = []
    if payload.get("mimeType") == "text/html" and payload.get("body", {}).get("data"):
        data = payload["body"]["data"]
        found.append(
            base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8", "replace")
        )
    for part in payload.get("parts", []) or []:
        found += html_parts(part)
    return found


def find_pixel(html: str, tracker: Tracker) -> signing.Hit | None:
    """The first genuine open pixel of ours in a body."""
    for match in _PIXEL.finditer(html):
        hit = signing.verify_pixel(tracker.link_secrets, ".".join(match.groups()))
        if hit is not None:
            return hit
    return None


def tracked_links(html: str, tracker: Tracker, hit: signing.Hit) -> list[str]:
    """Targets of this message's genuine click links, in body order, each once."""
    urls: dict[str, None] = {}
    for match in _CLICK.finditer(html):
        kid, mid, sig, encoded = match.groups()
        if (kid, mid) != (hit.kid, hit.mid):
            continue
        found = signing.verify_click(tracker.link_secrets, f"{kid}.{mid}.{sig}", encoded)
        if found is not None and found.url:
            urls.setdefault(found.url)
    return list(urls)


def adopt(
    session: Session,
    mailbox: GmailMailbox,
    gmail: GmailClient,
    mails: list,
    tracker: Tracker,
    now: datetime,
) -> int:
    """Record unmatched sent messages whose body carries this rep's pixel; returns how many."""
    if not mails or not can_read_bodies(mailbox):
        return 0
    by_id = {m.id: m for m in mails}
    try:
        bodies = gmail.get_full(list(by_id))
    except GmailApiError as exc:
        if exc.status != 403:
            raise
        # A grant Gmail will not show bodies to must never fail the sync: skip adoption.
        log.warning("gmail adoption skipped for %s: %s", mailbox.email, exc)
        return 0
    adopted = 0
    for full in bodies:
        html = "\n".join(html_parts(full.get("payload", {})))
        hit = find_pixel(html, tracker)
        if hit is None or not _owned(session, mailbox, hit.kid):
            continue
        existing = session.get(Message, hit.mid)
        if existing is not None:
            continue  # reported after all (the confirmation pass matched it or will)
        links = tracked_links(html, tracker, hit)
        _record(session, mailbox, by_id[full["id"]], hit, links, now)
        adopted += 1
    session.flush()
    return adopted


def _owned(session: Session, mailbox: GmailMailbox, kid: str) -> bool:
    owner = session.scalar(select(SigningKey.user_id).where(SigningKey.kid == kid))
    return owner == mailbox.user_id


def _record(
    session: Session,
    mailbox: GmailMailbox,
    mail: Mail,
    hit: signing.Hit,
    links: list[str],
    now: datetime,
) -> None:
    """Record the message under the id its pixel names, then confirm it as the sync does."""
    message = Message(
        id=hit.mid,
        account_id=mailbox.account_id,
        user_id=mailbox.user_id,
        kid=hit.kid,
        tracked=mailbox.user.tracks,
        links=[Link(position=i, url=url) for i, url in enumerate(links)],
    )
    session.add(message)
    confirm(message, mail, now)
