"""Connecting the Gmail extension: one-time codes bound to a PKCE challenge, and its token.

The extension's service worker makes a random verifier and sends only its SHA-256 (the challenge)
to the server's connect page. The signed-in rep confirms; the server issues a code valid for two
minutes and one use. The service worker exchanges code + verifier for an API token over its own
request, so neither the page nor anything that saw the code can obtain the token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts import users as accounts
from server.common import signing
from server.models import ConnectCode, User

CODE_LIFETIME = timedelta(minutes=2)
TOKEN_LABEL = "gmail extension"
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


class ConnectError(ValueError):
    """A connect request that cannot be carried out; `code` names the failure."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def challenge_of(verifier: str) -> str:
    """The S256 challenge of a verifier: unpadded url-safe base64 of its SHA-256."""
    return signing.b64encode(hashlib.sha256(verifier.encode()).digest())


def valid_challenge(challenge: str) -> bool:
    """Whether `challenge` has the shape of an S256 challenge."""
    return bool(_CHALLENGE.fullmatch(challenge or ""))


def issue_code(session: Session, user: User, challenge: str, now: datetime) -> str:
    """A fresh one-time code for `user`, bound to `challenge`; the plaintext is returned once."""
    if not valid_challenge(challenge):
        raise ConnectError("invalid_challenge", "The extension sent a malformed challenge.")
    code = secrets.token_urlsafe(24)
    session.add(
        ConnectCode(
            digest=_digest(code),
            user_id=user.id,
            challenge=challenge,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    session.flush()
    return code


def redeem_code(session: Session, code: str, verifier: str, now: datetime) -> tuple[User, str]:
    """Spend a code with its verifier and issue an API token: (user, plaintext token)."""
    row = session.scalar(select(ConnectCode).where(ConnectCode.digest == _digest(code)))
    invalid = ConnectError("invalid_code", "The connect code is unknown, used or expired.")
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise invalid
    if not hmac.compare_digest(challenge_of(verifier), row.challenge):
        raise invalid
    # Compare-and-set: of two simultaneous exchanges of one code, only one wins.
    spent = session.execute(
        update(ConnectCode)
        .where(ConnectCode.id == row.id, ConnectCode.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1 or not row.user.active:
        raise invalid
    return row.user, accounts.create_api_token(session, row.user, label=TOKEN_LABEL)
