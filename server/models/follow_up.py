"""The follow-up aggregate: "remind me if no reply in N days" on a sent message of a rep's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime, utcnow

# pending: waiting for its due time; due: fired without a reply (the rep was notified);
# cancelled: the rep took it back; done: the lead replied (no notice).
STATES = ("pending", "due", "cancelled", "done")
ACTIVE = ("pending", "due")


class FollowUp(db.Model):
    """A rep's reminder on one of their messages (and so its Gmail thread): one per message,
    set again in place."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), unique=True)
    days: Mapped[int] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # When it was (last) set: a reply counts only from then on.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the job found it due (whether it then became due or done).
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was cancelled or done, for retention.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The notifications feed's id of its notice: time-ordered like event ids, set when it fires.
    notice_id: Mapped[str | None] = mapped_column(String(32), index=True)
