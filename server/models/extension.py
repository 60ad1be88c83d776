"""One-time connect codes: how a signed-in rep hands the Gmail extension an API token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.account import User
from server.models.base import UTCDateTime, utcnow


class ConnectCode(db.Model):
    """A short-lived, single-use code, bound to the extension's PKCE challenge.

    Only a SHA-256 digest of the code is stored; the code alone is useless without the verifier,
    which never leaves the extension's service worker.
    """

    __tablename__ = "extension_connect_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    challenge: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
