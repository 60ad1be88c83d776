"""Google tokens at rest and in use: encryption, refresh, the reconnect-needed mark, revocation.

Refresh and access tokens are stored encrypted with MultiFernet (the first key encrypts, every key
decrypts) and never put in the cookie session. An `invalid_grant` from Google marks the mailbox
"reconnect needed", which pauses its sync until the rep connects again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import requests
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from config import Settings
from server.common import audit
from server.models import GmailMailbox

AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"
REVOKE_URI = "https://oauth2.googleapis.com/revoke"
TIMEOUT = 20


class GoogleAuthError(Exception):
    """An OAuth round trip or token operation failed; `code` names why, the text explains."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class TokenCipher:
    """Encrypts tokens with the configured Fernet keys; the first key encrypts."""

    def __init__(self, keys: tuple[str, ...]):
        if not keys:
            raise GoogleAuthError("not_configured", "TOKEN_ENCRYPTION_KEYS is not set.")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, text: str) -> str:
        """The token encrypted under the first key."""
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, blob: str) -> str:
        """The plaintext of a token encrypted under any configured key."""
        try:
            return self._fernet.decrypt(blob.encode()).decode()
        except InvalidToken as exc:
            raise GoogleAuthError(
                "undecryptable", "No configured key decrypts this token."
            ) from exc

    def rotate(self, blob: str) -> str:
        """The token re-encrypted under the first key."""
        return self._fernet.rotate(blob.encode()).decode("ascii")


@dataclass(frozen=True)
class GoogleClient:
    """The OAuth client: its credentials, our callback URL and the token cipher."""

    client_id: str
    client_secret: str
    redirect_uri: str
    cipher: TokenCipher
    # The Gmail API's root; empty: Google's (GMAIL_API_URL points it at a proxy or a stand-in).
    api_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> GoogleClient | None:
        """The configured client, or None when Google is not set up."""
        if not settings.google_configured:
            return None
        return cls(
            settings.google_client_id,
            settings.google_client_secret,
            settings.public_url + "/auth/google/callback",
            TokenCipher(settings.token_encryption_keys),
            settings.gmail_api_url,
        )

    def config(self) -> dict:
        """The client configuration in Google's client_secrets.json "web" shape."""
        return {
            "web": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": AUTH_URI,
                "token_uri": TOKEN_URI,
                "redirect_uris": [self.redirect_uri],
            }
        }


class ReconnectNeeded(GoogleAuthError):
    """Google no longer honours the mailbox's refresh token; the rep must connect again."""

    def __init__(self, message: str):
        super().__init__("reconnect_needed", message)


def mark_reconnect_needed(mailbox: GmailMailbox, detail: str) -> None:
    """Pause the mailbox's sync until the rep connects again; forget the dead tokens' use."""
    mailbox.status = "reconnect_needed"
    mailbox.status_detail = detail
    mailbox.access_token_encrypted = None
    mailbox.access_token_expires_at = None


def credentials(client: GoogleClient, mailbox: GmailMailbox) -> Credentials:
    """google-auth credentials of a mailbox, with its cached access token when it has one."""
    token = None
    if mailbox.access_token_encrypted:
        token = client.cipher.decrypt(mailbox.access_token_encrypted)
    expiry = mailbox.access_token_expires_at
    return Credentials(
        token=token,
        refresh_token=client.cipher.decrypt(mailbox.refresh_token_encrypted),
        token_uri=TOKEN_URI,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=mailbox.scope_list,
        # google-auth compares expiry with a naive UTC "now".
        expiry=expiry.astimezone(UTC).replace(tzinfo=None) if expiry else None,
    )


def refresh(
    client: GoogleClient, mailbox: GmailMailbox, creds: Credentials, http: requests.Session
) -> None:
    """Get a new access token and keep it (encrypted); invalid_grant marks reconnect needed."""
    try:
        creds.refresh(Request(http))
    except RefreshError as exc:
        if "invalid_grant" in str(exc):
            mark_reconnect_needed(mailbox, "Google revoked or expired the access (invalid_grant).")
            raise ReconnectNeeded(
                "Gmail access was revoked or expired. Connect Gmail again."
            ) from exc
        raise GoogleAuthError("refresh_failed", f"Google did not refresh the token: {exc}") from exc
    mailbox.access_token_encrypted = client.cipher.encrypt(creds.token)
    expiry = creds.expiry
    mailbox.access_token_expires_at = expiry.replace(tzinfo=UTC) if expiry else None


def _settings(settings: Settings | None) -> Settings:
    if settings is None:
        from flask import current_app  # only when the caller has no settings at hand

        settings = current_app.config["LEADCAMP"]
    return settings


def revoke_token(settings: Settings, refresh_token_encrypted: str | None) -> bool:
    """Revoke a stored (encrypted) token at Google with the configured keys; True if confirmed."""
    if not settings.token_encryption_keys:
        return False
    return revoke_encrypted(TokenCipher(settings.token_encryption_keys), refresh_token_encrypted)


def revoke_and_delete(
    session: Session, mailbox: GmailMailbox, settings: Settings | None = None
) -> bool:
    """Revoke the mailbox's token at Google and delete the mailbox; True if Google confirmed.

    The row is deleted even when Google cannot be reached or already forgot the token: a
    disconnect must never leave a usable token behind here.
    """
    revoked = revoke_token(_settings(settings), mailbox.refresh_token_encrypted)
    session.delete(mailbox)
    session.flush()
    return revoked


def revoke_encrypted(cipher: TokenCipher, blob: str | None) -> bool:
    """Revoke a stored (encrypted) token at Google; True if Google confirmed."""
    return revocation(cipher, blob) == REVOKED


REVOKED = "revoked at Google"


def revocation(cipher: TokenCipher, blob: str | None) -> str:
    """Revoke a stored (encrypted) token at Google; REVOKED, or what went wrong."""
    if not blob:
        return "no token to revoke"
    try:
        answer = requests.post(
            REVOKE_URI,
            data={"token": cipher.decrypt(blob)},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=TIMEOUT,
        )
    except GoogleAuthError as exc:
        return f"not revoked: {exc}"
    except requests.RequestException as exc:
        return f"not revoked: Google could not be reached ({type(exc).__name__})"
    if answer.status_code != 200:
        return f"not revoked: Google answered HTTP {answer.status_code}"
    return REVOKED


_AFTER_COMMIT = "leadcamp.revoke_after_commit"


def delete_and_revoke_after_commit(
    session: Session, mailbox: GmailMailbox, settings: Settings | None = None
) -> None:
    """Delete the mailbox now and revoke its token at Google once the session commits.

    For a larger change (an account's termination) that may still roll back: revoking first
    would leave the connection dead at Google but still stored here, and the change undone.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(
        (_settings(settings), mailbox.refresh_token_encrypted, mailbox.account_id, mailbox.user_id)
    )
    session.delete(mailbox)
    session.flush()


@event.listens_for(Session, "after_commit")
def _revoke_committed(session: Session) -> None:
    pending = session.info.pop(_AFTER_COMMIT, [])
    if not pending:
        return
    # The committed session cannot run SQL any more: the outcomes go in a transaction of
    # their own, so the trail says what Google really answered, not what was hoped for.
    with Session(bind=session.get_bind()) as outcomes:
        for settings, blob, account_id, user_id in pending:
            outcome = "not revoked: TOKEN_ENCRYPTION_KEYS is not set"
            if settings.token_encryption_keys:
                outcome = revocation(TokenCipher(settings.token_encryption_keys), blob)
            audit.record(outcomes, account_id, "gmail.revoke", target=f"user #{user_id}",
                         detail=outcome)  # fmt: skip
        outcomes.commit()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def rotate_keys(session: Session, cipher: TokenCipher) -> int:
    """Re-encrypt every stored token under the first key; returns mailboxes rewritten."""
    count = 0
    for mailbox in session.scalars(select(GmailMailbox)):
        mailbox.refresh_token_encrypted = cipher.rotate(mailbox.refresh_token_encrypted)
        if mailbox.access_token_encrypted:
            mailbox.access_token_encrypted = cipher.rotate(mailbox.access_token_encrypted)
        count += 1
    session.flush()
    return count


class MailboxAuth:
    """Access tokens for one mailbox's API calls: refreshed when stale or refused (a 401)."""

    def __init__(self, client: GoogleClient, mailbox: GmailMailbox, http: requests.Session):
        self.client, self.mailbox, self.http = client, mailbox, http
        self.creds = credentials(client, mailbox)

    def apply(self, headers: dict) -> None:
        """Put a valid access token on a request's headers."""
        if not self.creds.valid:
            self.refresh()
        headers["authorization"] = f"Bearer {self.creds.token}"

    def refresh(self) -> None:
        """Get a new access token now."""
        refresh(self.client, self.mailbox, self.creds, self.http)
