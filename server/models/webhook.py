"""The webhook aggregate: an account's receiving endpoints, the events it emits (the outbox) and
one delivery per endpoint and event, with its attempt log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime, utcnow

# The event types an endpoint may subscribe to (docs/webhooks.md has their payloads).
EVENT_TYPES = (
    "message.sent",
    "message.opened",
    "link.clicked",
    "message.replied",
    "message.bounced",
    "contact.updated",
    "data_request.completed",
)
# A delivery's states: pending (due at next_attempt_at), succeeded, failed (retries used up),
# cancelled (scrubbed: tracking switched off, an erasure, the endpoint deleted).
DELIVERY_STATES = ("pending", "succeeded", "failed", "cancelled")


class WebhookEndpoint(db.Model):
    """A URL of the customer's own that receives signed events of the chosen types."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(200), default="")
    # Comma-separated event types; empty means every type.
    event_types: Mapped[str] = mapped_column(Text, default="")
    # The signing secret ("whsec_" + base64), encrypted at rest; the previous one keeps being
    # signed with until `previous_expires_at`, so receivers can rotate without a gap.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # CIDRs of private addresses this endpoint may reach (the SSRF guard refuses them otherwise).
    allow_private: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str] = mapped_column(String(200), default="")
    # When the current run of failed attempts began (None after a success).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def types(self) -> list[str]:
        """The subscribed event types (empty: all)."""
        return [t for t in self.event_types.split(",") if t]


class WebhookEvent(db.Model):
    """One event the account emitted: the body every endpoint receives, signed per endpoint.

    `id` is the Standard Webhooks `webhook-id`: the same on every retry and replay, so a
    receiver drops duplicates by it. The body is removed after a short retention."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_account_at", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    type: Mapped[str] = mapped_column(String(40))
    # The person the event is about (lower-cased address), so an erasure finds it; "" for none.
    subject: Mapped[str] = mapped_column(String(320), default="", index=True)
    # The rep whose mail it concerns, so switching their tracking off scrubs it.
    user_id: Mapped[int | None] = mapped_column()
    payload: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event to one endpoint: its state and the last attempt's outcome (never a body)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_at", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[int | None] = mapped_column()
    latency_ms: Mapped[int | None] = mapped_column()
    # Why the last attempt failed, in our words (a refused address, a timeout); never the body.
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
