"""The accounts' providers of the personal-data registry: invitations sent to the person, and,
when the person is one of the account's users (a rep or an admin), their user row, API tokens,
connect codes and link-signing keys.

Erasing a user anonymizes their row rather than deleting it: messages, self-views and the audit
trail name users by id, and a kept row keeps that id from ever naming someone else. The user
provider is registered last (server/__init__.py), since the others find the user by address.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.accounts.sessions import end_sessions
from server.common.personal_data import Provider
from server.models import ApiToken, ConnectCode, Invitation, SigningKey, User
from server.models.base import iso


def user_of(session: Session, account_id: int, email: str) -> User | None:
    """The account's user with this address (users sign in lower-cased), or None."""
    return session.scalar(
        select(User).where(User.account_id == account_id, User.email == email.strip().lower())
    )


def find_invitations(session: Session, account_id: int, email: str) -> dict:
    """Invitations sent to the address."""
    rows = session.scalars(
        select(Invitation).where(Invitation.account_id == account_id, Invitation.email == email)
    )
    return {
        "invitations": [
            {"id": i.id, "email": i.email, "role": i.role, "created_at": iso(i.created_at)}
            for i in rows
        ]
    }


def erase_invitations(session: Session, account_id: int, email: str) -> int:
    """Remove invitations sent to the address."""
    return session.execute(
        delete(Invitation).where(Invitation.account_id == account_id, Invitation.email == email)
    ).rowcount


def erase_account_invitations(session: Session, account_id: int, mode: str) -> int:
    """Invitations are only useful while open: removed in both modes."""
    return session.execute(delete(Invitation).where(Invitation.account_id == account_id)).rowcount


def find_user(session: Session, account_id: int, email: str) -> dict:
    """The user row and their link-signing key ids."""
    user = user_of(session, account_id, email)
    if user is None:
        return {"users": [], "signing_keys": []}
    keys = session.scalars(select(SigningKey).where(SigningKey.user_id == user.id))
    return {
        "users": [
            {
                "id": user.id,
                "email": user.email,
                "name": user.name,
                "role": user.role,
                "active": user.active,
                "tracking_enabled": user.tracking_enabled,
                "created_at": iso(user.created_at),
            }
        ],
        "signing_keys": [
            {
                "kid": k.kid,
                "created_at": iso(k.created_at),
                "retired_at": iso(k.retired_at),
                "revoked_at": iso(k.revoked_at),
            }
            for k in keys
        ],
    }


def erase_user(session: Session, account_id: int, email: str) -> int:
    """Anonymize the user row (its id stays, named by nothing), end their sessions and revoke
    their keys (links already sent keep redirecting, recording nothing)."""
    user = user_of(session, account_id, email)
    if user is None:
        return 0
    now = datetime.now(UTC)
    session.execute(
        update(SigningKey)
        .where(SigningKey.user_id == user.id, SigningKey.revoked_at.is_(None))
        .values(revoked_at=now, retired_at=now)
    )
    user.email, user.name = f"user-{user.id}@anonymized.invalid", ""
    user.active, user.tracking_enabled = False, False
    user.login_generation += 1
    end_sessions(user)
    session.flush()
    return 1


def find_tokens(session: Session, account_id: int, email: str) -> dict:
    """The user's API tokens (prefix and label: the token itself is never stored)."""
    user = user_of(session, account_id, email)
    rows = [] if user is None else session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))  # fmt: skip
    return {
        "api_tokens": [
            {
                "prefix": t.prefix,
                "label": t.label,
                "created_at": iso(t.created_at),
                "last_used_at": iso(t.last_used_at),
                "revoked_at": iso(t.revoked_at),
            }
            for t in rows
        ]
    }


def erase_tokens(session: Session, account_id: int, email: str) -> int:
    """Delete the user's API tokens and extension connect codes."""
    user = user_of(session, account_id, email)
    if user is None:
        return 0
    count = 0
    for model in (ApiToken, ConnectCode):
        count += session.execute(delete(model).where(model.user_id == user.id)).rowcount
    return count


INVITATIONS = Provider(
    name="invitations",
    find=find_invitations,
    erase=erase_invitations,
    erase_account=erase_account_invitations,
    tables=("invitations",),
)
# Termination handles users and their credentials itself (server/privacy/termination.py).
TOKENS = Provider(
    name="api_tokens",
    find=find_tokens,
    erase=erase_tokens,
    tables=("api_tokens", "extension_connect_codes"),
)
USERS = Provider(name="users", find=find_user, erase=erase_user, tables=("users", "signing_keys"))
PROVIDER = INVITATIONS
