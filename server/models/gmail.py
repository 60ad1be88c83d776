"""The Gmail aggregate: a rep's connected mailbox and the pending OAuth round trips."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.account import User
from server.models.base import UTCDateTime, utcnow


class GmailMailbox(db.Model):
    """A rep's Gmail connection: encrypted tokens, the sync position and its health.

    Tokens are stored encrypted (MultiFernet, server/gmail/tokens.py) and never in the session.
    """

    __tablename__ = "gmail_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    google_sub: Mapped[str] = mapped_column(String(64), default="")
    refresh_token_encrypted: Mapped[str] = mapped_column(Text)
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Space-separated, as Google reports them.
    scopes: Mapped[str] = mapped_column(Text, default="")
    history_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="ok")
    status_detail: Mapped[str] = mapped_column(Text, default="")
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When Gmail stops pushing this mailbox's changes (users.watch); None: not watched.
    watch_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the rep was mailed that the sync stopped (server/gmail/health.py): set once per
    # outage, cleared once the mailbox is healthy again, so a later outage is told again.
    health_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def scope_list(self) -> list[str]:
        """The granted scopes as a sorted list."""
        return sorted(self.scopes.split())


class OAuthState(db.Model):
    """One pending Google OAuth round trip: its PKCE code verifier, kept server-side by state."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scopes: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
