"""Privacy: audit trail, data-subject requests, sub-processors, breaches, invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One thing that happened, append-only: the app has no path to change or remove an entry
    (and the database refuses UPDATE and DELETE on this table, see migration 0004)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: entries outlive the account they describe (termination keeps the trail).
    account_id: Mapped[int | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who acted, as a user id and a label ("cli", "system", or the user's id again); no address,
    # so the trail itself never needs erasing.
    actor_id: Mapped[int | None] = mapped_column()
    actor: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # The keyed hash chain (server/common/audit_chain.py): this entry's link and its key's id.
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    chain_key_id: Mapped[str | None] = mapped_column(String(16))


class DataRequest(db.Model):
    """A data-subject request: who asked, when, for what scope, and the outcome.

    The subject is kept as a keyed digest, not the address, so that an erasure leaves no trace.
    """

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # search, export, rectify, erase
    subject_digest: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ErasureLedgerEntry(db.Model):
    """A done erasure, kept so it can be applied again after a backup is restored: the erased
    address only as a keyed digest (HMAC with ERASURE_LEDGER_KEY), never the address."""

    __tablename__ = "erasure_ledger"
    __table_args__ = (Index("ix_erasure_ledger_account_digest", "account_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the ledger must hold even for an account a restore brings back.
    account_id: Mapped[int] = mapped_column()
    digest: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubProcessor(db.Model):
    """An entry of the account's published sub-processor list.

    `service` ties the entry to processing the product does ("enrichment" gates the enrichment
    lookups; "" is an entry listed only); the entry is in use from `effective_at` on.
    """

    __tablename__ = "sub_processors"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(Text)
    safeguard: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubProcessorChange(db.Model):
    """An announced change of the list, open to objection until `objection_until`."""

    __tablename__ = "sub_processor_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    change: Mapped[str] = mapped_column(String(16))  # added, changed, removed
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    objection_until: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the change applies: after the notice period, at once when urgent or a removal.
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Breach(db.Model):
    """A personal-data breach: when, what, whose data, and its remedial actions."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    description: Mapped[str] = mapped_column(Text)
    data_affected: Mapped[str] = mapped_column(Text)
    subjects_affected: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, closed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # GDPR Art. 33/34: when the supervisory authority and the people concerned were told.
    authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subjects_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notification_reference: Mapped[str] = mapped_column(String(200), default="")

    actions: Mapped[list[BreachAction]] = relationship(
        back_populates="breach", cascade="all, delete-orphan", order_by="BreachAction.id"
    )


class BreachAction(db.Model):
    """A remedial action of a breach, tracked to closure."""

    __tablename__ = "breach_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    breach_id: Mapped[int] = mapped_column(ForeignKey("breaches.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    breach: Mapped[Breach] = relationship(back_populates="actions")


class Invitation(db.Model):
    """An invitation to join an account; its link is signed, expires and works once."""

    __tablename__ = "invitations"
    # One open invitation per address and account, whatever two admins press at once.
    __table_args__ = (
        Index(
            "uq_invitations_open_email",
            "account_id",
            "email",
            unique=True,
            sqlite_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16), default="rep")
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
