"""Accounts, users, API tokens, link-signing keys and magic-link login."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.common import audit, signing
from server.common.inputs import InputError
from server.models import Account, ApiToken, SigningKey, User

TOKEN_PREFIX = "lc_"
MAGIC_LINK_MAX_AGE = 15 * 60
# A token's last use is kept to the minute: stamping every call would turn each API read into a
# write, and on SQLite every write waits for the one writer (an import, the event writer).
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_EMAIL_LENGTH = 320  # 64 for the local part, @, 255 for the domain (RFC 3696)


class AccountError(InputError):
    """A request about accounts or users that cannot be carried out."""


def normalize_email(email: str) -> str:
    """Lower-cased, trimmed address (users sign in with any capitalisation)."""
    return email.strip().lower()


def checked_email(email: str) -> str:
    """The normalised address, or AccountError when it cannot be one address."""
    email = normalize_email(email)
    if "@" not in email or any(c.isspace() for c in email) or len(email) > MAX_EMAIL_LENGTH:
        raise AccountError(f"not an email address: {email!r}", "email")
    return email


def create_user(
    session: Session, email: str, account_name: str, *, admin: bool = False, name: str = ""
) -> User:
    """Create a user in the named account, creating the account if it does not exist yet."""
    email = checked_email(email)
    if session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"a user with the address {email} exists already")
    account = session.scalar(select(Account).where(Account.name == account_name))
    if account is None:
        account = Account(name=account_name)
        session.add(account)
    user = User(account=account, email=email, name=name, role="admin" if admin else "rep")
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    """The user with this address, or AccountError."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise AccountError(f"no user with the address {email}")
    return user


def find_account(session: Session, name: str) -> Account:
    """The account with this name, or AccountError."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise AccountError(f"no account named {name!r}")
    return account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: User, label: str = "") -> str:
    """Issue a bearer token for `user`; the plaintext is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, digest=_digest(token), prefix=token[:10], label=label)
    session.add(row)
    session.flush()
    audit.record(
        session, user.account_id, "token.create", target=f"user #{user.id}", detail=row.prefix
    )
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        row.last_used_at = now
    return row.user


def revoke_api_token(session: Session, token: str) -> bool:
    """Revoke a token by its plaintext; False when it was unknown or already revoked."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    audit.record(
        session,
        row.user.account_id,
        "token.revoke",
        target=f"user #{row.user_id}",
        detail=row.prefix,
    )
    return True


def current_signing_key(session: Session, user: User) -> SigningKey:
    """The user's key id for new mail, issuing one on first use."""
    key = session.scalar(
        select(SigningKey)
        .where(SigningKey.user_id == user.id, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc())
    )
    return key or rotate_signing_key(session, user)


def rotate_signing_key(session: Session, user: User) -> SigningKey:
    """Retire the user's current key ids and issue a new one; old links keep verifying."""
    now = datetime.now(UTC)
    for old in session.scalars(
        select(SigningKey).where(SigningKey.user_id == user.id, SigningKey.retired_at.is_(None))
    ):
        old.retired_at = now
        audit.record(
            session, user.account_id, "key.retire", target=f"user #{user.id}", detail=old.kid
        )
    key = SigningKey(kid=signing.new_kid(), user_id=user.id, account_id=user.account_id)
    session.add(key)
    session.flush()
    audit.record(session, user.account_id, "key.create", target=f"user #{user.id}", detail=key.kid)
    return key


def key_material(link_secrets: tuple[str, ...], kid: str) -> bytes:
    """The bytes a key id signs with: derived from the current server link secret."""
    return signing.derive_key(link_secrets[0], kid)


def owns_message_id(session: Session, user: User, link_secrets: tuple[str, ...], mid: str) -> bool:
    """Whether `mid` was made with one of the user's signing keys (under any link secret)."""
    kids = session.scalars(select(SigningKey.kid).where(SigningKey.user_id == user.id))
    return any(
        signing.is_bound(signing.derive_key(secret, kid), mid)
        for kid in kids
        for secret in link_secrets
    )


def _login_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="leadcamp.magic-link")


def magic_link_token(secret_key: str, user: User) -> str:
    """A login token for `user`, valid for 15 minutes and for one use."""
    return _login_serializer(secret_key).dumps({"u": user.id, "g": user.login_generation})


def sign_in_mail(session: Session, secret_key: str, public_url: str, email: str) -> str | None:
    """The body of a sign-in link mail for the active user with this address; None when no
    one may sign in with it (the caller sends nothing, and tells the asker nothing of it)."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.is_active:
        return None
    link = f"{public_url}/auth/magic/{magic_link_token(secret_key, user)}"
    return (
        f"Someone, probably you, asked to sign in to Leadcamp as {user.email}.\n\n"
        f"Open this link within 15 minutes to sign in (it works once):\n{link}\n\n"
        "If you did not ask, ignore this mail: nothing happens without the link.\n"
    )


def load_signed(serializer, token: str, max_age: int, noun: str) -> dict:
    """A signed link's payload; AccountError naming the `noun` when expired or forged."""
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise AccountError(f"This {noun} has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise AccountError(f"This {noun} is not valid.") from exc


def redeem_magic_link(session: Session, secret_key: str, token: str) -> User:
    """The user a magic-link token logs in; spends the token. Raises AccountError."""
    data = load_signed(_login_serializer(secret_key), token, MAGIC_LINK_MAX_AGE, "sign-in link")
    user = session.get(User, data.get("u"))
    if user is None or not user.is_active:
        raise AccountError("This sign-in link is not valid.")
    # Compare-and-set, so two simultaneous uses of one link cannot both succeed.
    spent = session.execute(
        update(User)
        .where(User.id == user.id, User.login_generation == data.get("g"))
        .values(login_generation=User.login_generation + 1)
    )
    if spent.rowcount != 1:
        raise AccountError("This sign-in link has been used already. Ask for a new one.")
    session.refresh(user)
    return user
