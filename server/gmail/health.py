"""Gmail health: whether a rep's mailbox is syncing, in plain words, and telling the rep once
when it stops.

Google ends a grant without telling anyone: the rep removes Leadcamp at
myaccount.google.com/permissions, an admin revokes it, or (while the server's Google app is in
testing mode) it simply expires after 7 days. The sync then meets `invalid_grant` and pauses the
mailbox (`reconnect_needed`, tokens.py); a sync failing for any other reason keeps the mailbox
`ok` but stops moving `last_synced_at` (`stalled`). Either way replies and bounces stop being
recorded, so the rep is mailed once per outage and the extension and the admin's team page say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.common.mail import Mailer
from server.gmail.auth import SEND, mailbox_of
from server.models import GmailMailbox, User
from server.models.base import iso

OK, RECONNECT_NEEDED, STALLED, NOT_CONNECTED = "ok", "reconnect_needed", "stalled", "not_connected"
BROKEN = (RECONNECT_NEEDED, STALLED)
# Stalled after this many sync intervals without a successful sync...
STALL_INTERVALS = 6
# ...and never sooner than this: a failed sync is retried with backoff for 7.5 minutes, and a
# short Google hiccup is not worth a mail.
STALL_MINIMUM = timedelta(minutes=30)
# The page that shows the connection and reconnects it (server/auth/google.py).
CONNECT_PATH = "/auth/google"


@dataclass(frozen=True)
class Health:
    """A mailbox's health: its state, the last good sync (or connection) and Google's words."""

    state: str
    since: datetime | None = None
    detail: str = ""

    @property
    def broken(self) -> bool:
        """Whether the sync has stopped and the rep must act (reconnect)."""
        return self.state in BROKEN

    @property
    def words(self) -> str:
        """The state in plain words, for pages."""
        since = _when(self.since)
        if self.state == OK:
            return f"connected, last sync {since}" if self.since else "connected, not synced yet"
        if self.state == RECONNECT_NEEDED:
            return (
                f"reconnect needed: Google no longer accepts Leadcamp's access; last sync {since}"
            )
        if self.state == STALLED:
            return f"not syncing: no successful sync since {since}"
        return "not connected"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "never"


@dataclass(frozen=True)
class Sweep:
    """How often a mailbox is synced: every `minutes`, or every `pushed_minutes` while Gmail
    pushes its changes (a quiet watched mailbox is only swept that often: not a stall)."""

    minutes: int
    pushed_minutes: int = 0

    @classmethod
    def of(cls, settings) -> Sweep:
        """The sweep the server's settings run."""
        pushed = settings.gmail_push_fallback_minutes if settings.gmail_push else 0
        return cls(settings.gmail_sync_minutes, max(pushed, settings.gmail_sync_minutes))

    def minutes_for(self, mailbox: GmailMailbox, now: datetime) -> int:
        """The interval at which `mailbox` is swept at `now`."""
        watched = mailbox.watch_expires_at is not None and mailbox.watch_expires_at > now
        return self.pushed_minutes if watched and self.pushed_minutes else self.minutes


def stall_after(sync_minutes: int) -> timedelta:
    """How long without a successful sync makes a connected mailbox stalled."""
    return max(timedelta(minutes=max(1, sync_minutes) * STALL_INTERVALS), STALL_MINIMUM)


def health_of(mailbox: GmailMailbox | None, now: datetime, sweep: Sweep | int) -> Health:
    """The health of a mailbox (None: not connected) at `now`, synced as `sweep` (or every so
    many minutes) says."""
    if mailbox is None:
        return Health(NOT_CONNECTED)
    last = mailbox.last_synced_at or mailbox.connected_at
    if mailbox.status != OK:
        return Health(RECONNECT_NEEDED, last, mailbox.status_detail)
    sweep = sweep if isinstance(sweep, Sweep) else Sweep(sweep)
    if last is None or now - last > stall_after(sweep.minutes_for(mailbox, now)):
        return Health(STALLED, last)
    return Health(OK, mailbox.last_synced_at)


def of_users(
    session: Session, user_ids: Iterable[int], now: datetime, sweep: Sweep | int
) -> dict[int, Health]:
    """The health of each user's mailbox, by user id (not connected for those without one)."""
    ids = list(user_ids)
    boxes = session.scalars(select(GmailMailbox).where(GmailMailbox.user_id.in_(ids)))
    found = {m.user_id: health_of(m, now, sweep) for m in boxes}
    return {i: found.get(i, Health(NOT_CONNECTED)) for i in ids}


def status_view(
    session: Session, user: User, now: datetime, sweep: Sweep | int, connect_url: str
) -> dict:
    """The rep's Gmail connection as the API's `me` shows it (schemas.GmailOut)."""
    mailbox = mailbox_of(session, user)
    health = health_of(mailbox, now, sweep)
    return {
        "connected": mailbox is not None,
        "status": mailbox.status if mailbox else NOT_CONNECTED,
        "health": health.state,
        "email": mailbox.email if mailbox else None,
        "scopes": mailbox.scope_list if mailbox else [],
        "last_synced_at": iso(mailbox.last_synced_at) if mailbox else None,
        "connect_url": connect_url,
    }


def notice(health: Health, mailbox: GmailMailbox, connect_url: str) -> tuple[str, str]:
    """The subject and body of the mail telling a rep their Gmail sync stopped."""
    if health.state == RECONNECT_NEEDED:
        what = (
            f"Google no longer accepts Leadcamp's access to {mailbox.email}: it was revoked "
            "(at myaccount.google.com/permissions, or by your Google admin), or it expired (while "
            "this server's Google app is in testing mode, Google ends access after 7 days)."
        )
    else:
        what = (
            f"Leadcamp has not been able to sync {mailbox.email} since {_when(health.since)}. "
            "Connecting Gmail again often fixes it; if it does not, tell your Leadcamp admin."
        )
    lost = "Until then Leadcamp records no replies or bounces to your tracked mail"
    if health.state == RECONNECT_NEEDED and SEND in mailbox.scopes.split():
        lost += ", and sending through Gmail from Leadcamp is refused"
    body = (
        f"{what}\n\n{lost} (opens and clicks are still recorded).\n\n"
        f"Connect Gmail again here:\n{connect_url}\n\n"
        "You get this mail once each time the sync stops.\n"
    )
    return "Leadcamp stopped reading your Gmail", body


def notify_outages(
    session: Session, mailer: Mailer, now: datetime, sweep: Sweep | int, public_url: str
) -> int:
    """Mail each rep whose mailbox stopped syncing, once per outage; returns how many were
    mailed. A healthy mailbox's notice is cleared so its next outage is told again. The caller
    commits."""
    sent = 0
    query = select(GmailMailbox, User).join(User, User.id == GmailMailbox.user_id)
    for mailbox, user in session.execute(query.order_by(GmailMailbox.id)).all():
        health = health_of(mailbox, now, sweep)
        if not health.broken:
            mailbox.health_notified_at = None
            continue
        if mailbox.health_notified_at is not None or not user.is_active:
            continue
        subject, body = notice(health, mailbox, public_url + CONNECT_PATH)
        # Not sent (SMTP down): left unmarked, so the next run tries again.
        if mailer.send([user.email], subject, body):
            mailbox.health_notified_at = now
            sent += 1
    return sent
