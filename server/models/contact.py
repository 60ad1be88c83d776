"""The contact aggregate: leads, their companies, the addresses they were seen under, and
what the enrichment provider said about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import UTCDateTime, utcnow


class Company(db.Model):
    """An organisation, derived from its contacts' email domain (free-mail domains excluded)."""

    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("account_id", "domain", name="uq_companies_account_domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # None for a company named by hand for a contact with a free-mail address.
    domain: Mapped[str | None] = mapped_column(String(253))
    name: Mapped[str] = mapped_column(String(200), default="")
    # Where the name came from (domain, manual or enrichment): a guess from the domain is
    # overwritten by better sources.
    name_source: Mapped[str] = mapped_column(String(16), default="domain")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Contact(db.Model):
    """A lead: one per normalized address per account."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("account_id", "email", name="uq_contacts_account_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    email_display: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(50))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    do_not_enrich: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    company: Mapped[Company | None] = relationship()
    addresses: Mapped[list[ContactAddress]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )
    enrichment: Mapped[Enrichment | None] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )


class ContactAddress(db.Model):
    """An address (as recipients store it: lower-cased) that normalizes to its contact's."""

    __tablename__ = "contact_addresses"
    __table_args__ = (
        UniqueConstraint("account_id", "email", name="uq_contact_addresses_account_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))

    contact: Mapped[Contact] = relationship(back_populates="addresses")


class Enrichment(db.Model):
    """The provider's answer about one contact: only the policy's fields, with provider and time.

    The row is also the lookup's work item: `next_attempt_at` says when the job should ask (or
    poll, or retry); None means nothing is due until the cache expires.
    """

    __tablename__ = "enrichments"
    __table_args__ = (Index("ix_enrichments_due", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    # pending, queued, found, not_found or error
    status: Mapped[str] = mapped_column(String(16), default="pending")
    person: Mapped[dict | None] = mapped_column(JSON)
    company: Mapped[dict | None] = mapped_column(JSON)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    # What the answer filled in on the contact and its company ({"name": ..., "title": ...,
    # "company_id": ..., "company_name": ...}), taken back when the answer is removed.
    filled: Mapped[dict | None] = mapped_column(JSON)

    contact: Mapped[Contact] = relationship(back_populates="enrichment")
