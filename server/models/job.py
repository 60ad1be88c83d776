"""The job-run aggregate: one piece of slow work a request handed to the worker, and the people
it holds data about."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import UTCDateTime, utcnow

# queued -> running -> succeeded | failed | unknown (the outcome could not be learned: a send
# whose answer never came may have gone out).
STATUSES = ("queued", "running", "succeeded", "failed", "unknown")
FINISHED = ("succeeded", "failed", "unknown")


def new_run_id() -> str:
    """128 random bits, URL-safe: a run's id says nothing about how many others there are."""
    return secrets.token_urlsafe(16)


class JobRun(db.Model):
    """What a job was asked to do, how far it got, what came of each item, and why it failed."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_account_created", "account_id", "created_at"),
        Index("ix_job_runs_status_updated", "status", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_run_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # gmail_send, contacts_import, ...
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int | None] = mapped_column()
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    # What the job needs to run; dropped once it has ended (it may hold a whole CSV file).
    input: Mapped[dict | None] = mapped_column(JSON)
    # One entry per item (a recipient's copy, a CSV row), each naming its person as "email".
    items: Mapped[list] = mapped_column(JSON, default=list)
    result: Mapped[dict | None] = mapped_column(JSON)
    # The files an export wrote, by format; kept only while their download is allowed.
    files: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moves with every progress step, so a run whose worker died can be told from a slow one.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    addresses: Mapped[list[JobRunAddress]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def finished(self) -> bool:
        """Whether the run has ended, one way or another."""
        return self.status in FINISHED


class JobRunAddress(db.Model):
    """An address a run holds data about, so a data-subject request finds the run."""

    __tablename__ = "job_run_addresses"
    __table_args__ = (Index("ix_job_run_addresses_account_email", "account_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("job_runs.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    email: Mapped[str] = mapped_column(String(320))

    run: Mapped[JobRun] = relationship(back_populates="addresses")
