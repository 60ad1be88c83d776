"""The message aggregate: a tracked sent mail, its recipients, links, summary and self-views,
and the reports' per-rep, per-day roll-ups of them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import UTCDateTime, utcnow

VERDICTS = ("human", "proxy", "machine", "scanner", "prefetch", "bot", "self")
REAL_VERDICTS = ("human", "proxy")
REPORT_COLUMNS = (
    *("account_id", "sent_at", "user_id", "opens_tracked", "links_tracked"),
    *("first_open_at", "first_reply_at", "clicks", "replies", "bounces"),
    *(f"n_{v}" for v in VERDICTS),
)


class Message(db.Model):
    """A sent message, keyed by the 128-bit id its links carry."""

    __tablename__ = "messages"
    # Reports count a period's messages per rep from this index alone (server/insights/).
    __table_args__ = (
        Index(
            "ix_messages_account_sent",
            "account_id",
            "sent_at",
            "user_id",
            "tracked",
            "track_opens",
            "track_links",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kid: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gmail_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    gmail_thread_id: Mapped[str | None] = mapped_column(String(64), index=True)
    tracked: Mapped[bool] = mapped_column(default=True)
    # Which parts the sender chose to track: the pixel (opens) and the click redirects (links).
    # Off, the part was never put in the mail, so "not opened" would be a wrong answer.
    track_opens: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    track_links: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # The RFC 5322 Message-ID header, learned from Gmail sync or set by server-side sending.
    rfc_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    # When Gmail sync found the message in the sender's mailbox.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipients: Mapped[list[Recipient]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Recipient.id"
    )
    links: Mapped[list[Link]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Link.position"
    )


class Recipient(db.Model):
    """One addressee of a message."""

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")

    message: Mapped[Message] = relationship(back_populates="recipients")


class Link(db.Model):
    """A rewritten link of a message, in body order."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    url: Mapped[str] = mapped_column(Text)

    message: Mapped[Message] = relationship(back_populates="links")


class MessageSummary(db.Model):
    """Per-message roll-up kept current by the event sink, so status reads never scan events.

    Keyed by message id without a foreign key: hits may arrive before the message is reported.
    """

    __tablename__ = "message_summaries"

    # Reports read a period's summaries from this index alone (an index-only scan): it holds
    # every column they aggregate.
    __table_args__ = (Index("ix_message_summaries_report", *REPORT_COLUMNS),)

    message_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # The message's rep, sending time and tracked parts, copied from it when hits are added (and
    # when it is reported again), so reports read a period's summaries without a join.
    user_id: Mapped[int | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opens_tracked: Mapped[bool | None] = mapped_column()
    links_tracked: Mapped[bool | None] = mapped_column()
    opens: Mapped[int] = mapped_column(default=0)
    clicks: Mapped[int] = mapped_column(default=0)
    replies: Mapped[int] = mapped_column(default=0)
    bounces: Mapped[int] = mapped_column(default=0)
    n_human: Mapped[int] = mapped_column(default=0)
    n_proxy: Mapped[int] = mapped_column(default=0)
    n_machine: Mapped[int] = mapped_column(default=0)
    n_scanner: Mapped[int] = mapped_column(default=0)
    n_prefetch: Mapped[int] = mapped_column(default=0)
    n_bot: Mapped[int] = mapped_column(default=0)
    n_self: Mapped[int] = mapped_column(default=0)
    first_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_click_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first reply, for the time to reply in reports; the last for the status.
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_bounce_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def counts(self) -> dict[str, int]:
        """Hits per verdict."""
        return {v: getattr(self, f"n_{v}") or 0 for v in VERDICTS}

    @property
    def status(self) -> str:
        """The furthest stage reached: replied, clicked, opened, bounced or sent. A click implies an
        open; a bounce with real opens or clicks was one recipient's copy, the others arrived."""
        if self.replies:
            return "replied"
        if self.clicks:
            return "clicked"
        if self.opens:
            return "opened"
        if self.bounces:
            return "bounced"
        return "sent"


class SelfView(db.Model):
    """The extension's signal that the sender is looking at their own message right now."""

    __tablename__ = "self_views"
    __table_args__ = (Index("ix_self_views_message_at", "message_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The one hit this view explained (relabelled `self`); a view explains no other.
    claimed_event_id: Mapped[str | None] = mapped_column(String(32))


class ReportRollup(db.Model):
    """One rep's messages sent on one UTC day, added up for reports (server/messages/rollups.py).

    Counts of the messages side (sent, tracked) and of their summaries (what became of them),
    and every delay the medians need, so a report reads reps x days rows, not messages. `marks`
    counts the changes marked since the table began, `built` the last one counted in: the row is
    stale while marks > built, and a refresh that raced a new mark leaves it stale.
    """

    __tablename__ = "report_rollups"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(server_default="0")
    open_base: Mapped[int] = mapped_column(server_default="0")
    click_base: Mapped[int] = mapped_column(server_default="0")
    opened: Mapped[int] = mapped_column(server_default="0")
    clicked: Mapped[int] = mapped_column(server_default="0")
    replied: Mapped[int] = mapped_column(server_default="0")
    bounced: Mapped[int] = mapped_column(server_default="0")
    n_human: Mapped[int] = mapped_column(server_default="0")
    n_proxy: Mapped[int] = mapped_column(server_default="0")
    n_machine: Mapped[int] = mapped_column(server_default="0")
    n_scanner: Mapped[int] = mapped_column(server_default="0")
    n_prefetch: Mapped[int] = mapped_column(server_default="0")
    n_bot: Mapped[int] = mapped_column(server_default="0")
    n_self: Mapped[int] = mapped_column(server_default="0")
    # Seconds from sending to the first real open and to the first reply, one per message that
    # has one: medians of merged lists are exact, which a histogram's would not be.
    open_delays: Mapped[list] = mapped_column(JSON, server_default="[]")
    reply_delays: Mapped[list] = mapped_column(JSON, server_default="[]")
    marks: Mapped[int] = mapped_column(server_default="1")
    built: Mapped[int] = mapped_column(server_default="0")
