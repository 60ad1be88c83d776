"""The account aggregate: the customer, its people, their API tokens and link-signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import UTCDateTime, utcnow

ROLES = ("admin", "rep")


class Account(db.Model):
    """A customer: every other row belongs to one."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The data processing policy's switch: on = engagement analytics and enrichment,
    # off = contact management only (no pixel recording, no link rewriting, no enrichment).
    tracking_enabled: Mapped[bool] = mapped_column(default=True)
    track_by_default: Mapped[bool] = mapped_column(default=True)
    retention_days: Mapped[int] = mapped_column(default=396)
    # The host recipients see in tracking links, when the admin points one at this server.
    tracking_domain: Mapped[str | None] = mapped_column(String(253))
    # Server-side sending through the reps' Gmail (gmail.send scope): off unless an admin allows it.
    sending_enabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the account is terminated: its personal data is gone, only aggregates remain.
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    users: Mapped[list[User]] = relationship(back_populates="account")


class User(db.Model):
    """A person of an account: an admin or a sales rep."""

    __tablename__ = "users"
    # SQLite: never hand a deleted user's id to someone new (old audit entries name ids).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="rep")
    active: Mapped[bool] = mapped_column(default=True)
    # None follows the account; False narrows it for this rep (overrides only narrow).
    tracking_enabled: Mapped[bool | None] = mapped_column(default=None)
    # Bumped on every magic-link login so each link works once.
    login_generation: Mapped[int] = mapped_column(default=0)
    # Each signed-in session records this at sign-in; bumping it (sign-out, deactivation,
    # reactivation, a role change) ends every session the user has, copied cookies included.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="users")

    @property
    def is_admin(self) -> bool:
        """Whether the user administers the account."""
        return self.role == "admin"

    @property
    def tracks(self) -> bool:
        """Whether hits on this user's mail are recorded (account switch narrowed by override)."""
        return self.active and self.account.tracking_enabled and self.tracking_enabled is not False

    # Flask-Login's user protocol.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Deactivated users, and everyone of a terminated account, cannot sign in."""
        return self.active and self.account.terminated_at is None

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session."""
        return str(self.id)


class ApiToken(db.Model):
    """A bearer token for the extension: shown once, stored as a SHA-256 digest."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SigningKey(db.Model):
    """Maps a link-signing key id to its rep.

    The key itself is never stored: it is derived from the server's link secret and the key id
    (HKDF), so a link verifies without the database and there is no key material at rest.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A retired key no longer signs new mail; links it signed keep working.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A revoked key (its rep was deactivated): its links keep redirecting but record nothing.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
