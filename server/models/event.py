"""The event aggregate: one recorded hit or engagement, labelled, never dropped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime

# open/click from tracking; reply/auto_reply/bounce from Gmail sync (auto_reply: an
# out-of-office answer, shown but never counted as a reply); view/download/visit reserved for
# content and website tracking.
KINDS = ("open", "click", "reply", "auto_reply", "bounce", "view", "download", "visit")


class Event(db.Model):
    """A hit, de-identified: the raw IP and user agent are never stored."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_message_time", "message_id", "occurred_at"),
        Index("ix_events_account_time", "account_id", "occurred_at"),
    )

    # The idempotency key, made when the hit is received: a replay never double-counts.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    message_id: Mapped[str] = mapped_column(String(32))
    kid: Mapped[str] = mapped_column(String(16), default="")
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verdict: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(String(255), default="")
    classifier_version: Mapped[int] = mapped_column(default=1)
    # What the request showed, for re-running verdicts: "ua=human,net=mimecast/…,no-lang".
    evidence: Mapped[str | None] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8), default="GET")
    link_url: Mapped[str | None] = mapped_column(Text)
    ip_prefix: Mapped[str | None] = mapped_column(String(48))
    ip_hash: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    device_type: Mapped[str | None] = mapped_column(String(16))
    os_family: Mapped[str | None] = mapped_column(String(50))
    browser_family: Mapped[str | None] = mapped_column(String(50))
    # Duration in seconds for content `view` events.
    duration: Mapped[float | None] = mapped_column()

    @property
    def reason_list(self) -> list[str]:
        """The reasons as a list."""
        return [r for r in self.reasons.split(",") if r]


class PendingHit(db.Model):
    """A signed hit on a message not reported yet (the report may follow: Undo Send, a retry).

    Held apart from `events` so nobody's data counts it until its message exists and belongs to
    the signing key's rep; the batch writer then stores it, or drops it after the grace period.
    """

    __tablename__ = "pending_hits"

    # The event's own id (the idempotency key): a replayed hit is held once.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The event as the hot path made it (de-identified already), JSON.
    payload: Mapped[str] = mapped_column(Text)


class IpHashKey(db.Model):
    """The random key of one period's address hashes, shared by every process of the server.

    Deleted once its period has ended, so no stored hash can be tested against an address again
    (server/tracking/ip_keys.py).
    """

    __tablename__ = "ip_hash_keys"

    # The period's index: unix time divided by IP_HASH_ROTATION_HOURS.
    period: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
