"""Google OAuth: the web flow (state + PKCE), encrypted tokens, refresh, revoke.

Only services/gmail* import Google's libraries. The code verifier of each round trip is kept in
the database keyed by its state, never in the cookie session; refresh tokens are stored
encrypted with MultiFernet (the first key encrypts, every key decrypts).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config import Settings
from server.models import GmailMailbox, OAuthState, User

# Google answers with the scopes actually granted (e.g. "email" comes back as
# ".../userinfo.email"); oauthlib would raise on any difference. We compare them ourselves.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"
REVOKE_URI = "https://oauth2.googleapis.com/revoke"
USERINFO_URI = "https://openidconnect.googleapis.com/v1/userinfo"

OPENID, EMAIL, PROFILE = (
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
)
METADATA = "https://www.googleapis.com/auth/gmail.metadata"
SEND = "https://www.googleapis.com/auth/gmail.send"
READONLY = "https://www.googleapis.com/auth/gmail.readonly"
SIGN_IN_SCOPES = (OPENID, EMAIL, PROFILE)
# Short names Google accepts in a request and the full names it grants them as.
_ALIASES = {"email": EMAIL, "profile": PROFILE}
STATE_LIFETIME = timedelta(minutes=10)
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


def normalize_scopes(scopes) -> set[str]:
    """Scope names in the full form Google grants them in."""
    if isinstance(scopes, str):
        scopes = scopes.split()
    return {_ALIASES.get(s, s) for s in scopes or ()}


def connect_scopes(sending: bool, read_bodies: bool = False) -> tuple[str, ...]:
    """What connecting Gmail asks for: metadata always, send only when the account sends,
    readonly only when the server is set to adopt unreported mail by its pixel."""
    extra = ((SEND,) if sending else ()) + ((READONLY,) if read_bodies else ())
    return (*SIGN_IN_SCOPES, METADATA, *extra)


def start(
    session: Session, client: GoogleClient, purpose: str, scopes, user: User | None, now: datetime
) -> tuple[str, str]:
    """Begin a round trip: store the state's code verifier; return (authorization URL, state)."""
    session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
    flow = Flow.from_client_config(client.config(), scopes=list(scopes), state=_new_state())
    flow.redirect_uri = client.redirect_uri
    extra = {"prompt": "consent"} if purpose == "connect" else {"prompt": "select_account"}
    url, state = flow.authorization_url(
        access_type="offline", include_granted_scopes="true", **extra
    )
    if user is not None:
        url += "&login_hint=" + requests.utils.quote(user.email)
    session.add(
        OAuthState(
            state=state,
            code_verifier=flow.code_verifier,
            purpose=purpose,
            user_id=user.id if user else None,
            scopes=" ".join(scopes),
            expires_at=now + STATE_LIFETIME,
        )
    )
    session.flush()
    return url, state


def _new_state() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Grant:
    """What a finished round trip yields."""

    purpose: str
    user_id: int | None
    requested: set[str]
    granted: set[str]
    refresh_token: str | None
    access_token: str
    expires_at: datetime | None
    email: str
    email_verified: bool
    sub: str
    name: str

    @property
    def missing(self) -> set[str]:
        """Requested scopes the person did not grant."""
        return self.requested - self.granted


def take_state(session: Session, state: str, now: datetime) -> OAuthState:
    """Spend a pending round trip's state (once); GoogleAuthError if unknown, used or expired."""
    row = session.get(OAuthState, state) if state else None
    if row is None:
        raise GoogleAuthError(
            "unknown_state",
            "This sign-in attempt is unknown or was already used. Please start again.",
        )
    session.delete(row)
    session.flush()
    if row.expires_at < now:
        raise GoogleAuthError("expired_state", "This sign-in attempt expired. Please start again.")
    return row


def finish(client: GoogleClient, pending: OAuthState, code: str, now: datetime) -> Grant:
    """Exchange the code (with the stored PKCE verifier) and read who signed in."""
    requested = normalize_scopes(pending.scopes)
    flow = Flow.from_client_config(
        client.config(),
        scopes=pending.scopes.split(),
        state=pending.state,
        code_verifier=pending.code_verifier,
        autogenerate_code_verifier=False,
    )
    flow.redirect_uri = client.redirect_uri
    try:
        token = flow.fetch_token(code=code, timeout=TIMEOUT)
    except (OAuth2Error, requests.RequestException, ValueError) as exc:
        raise GoogleAuthError(
            "token_exchange_failed", f"Google refused the sign-in: {exc}"
        ) from exc
    info = _userinfo(token["access_token"])
    expires_in = token.get("expires_in")
    return Grant(
        purpose=pending.purpose,
        user_id=pending.user_id,
        requested=requested,
        granted=normalize_scopes(token.get("scope") or pending.scopes),
        refresh_token=token.get("refresh_token"),
        access_token=token["access_token"],
        expires_at=now + timedelta(seconds=int(expires_in)) if expires_in else None,
        email=(info.get("email") or "").strip().lower(),
        email_verified=bool(info.get("email_verified")),
        sub=str(info.get("sub") or ""),
        name=info.get("name") or "",
    )


def _userinfo(access_token: str) -> dict:
    try:
        response = requests.get(
            USERINFO_URI, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        raise GoogleAuthError("userinfo_failed", f"Google did not answer: {exc}") from exc
    if response.status_code != 200:
        raise GoogleAuthError("userinfo_failed", "Google did not say who signed in.")
    return response.json()


def save_mailbox(
    session: Session, client: GoogleClient, user: User, grant: Grant, now: datetime
) -> GmailMailbox:
    """Store (or update) the user's mailbox from a connect grant; tokens encrypted."""
    mailbox = session.scalar(select(GmailMailbox).where(GmailMailbox.user_id == user.id))
    if grant.refresh_token is None and mailbox is None:
        raise GoogleAuthError(
            "no_refresh_token",
            "Google gave no offline access. Remove Leadcamp at myaccount.google.com/permissions "
            "and connect again.",
        )
    if mailbox is None:
        mailbox = GmailMailbox(account_id=user.account_id, user_id=user.id, history_id=None)
        session.add(mailbox)
    if mailbox.email and mailbox.email != grant.email:
        mailbox.history_id = None  # another Gmail account: its history ids mean nothing here
    if grant.refresh_token is not None:
        mailbox.refresh_token_encrypted = client.cipher.encrypt(grant.refresh_token)
    mailbox.email, mailbox.google_sub = grant.email, grant.sub
    mailbox.access_token_encrypted = client.cipher.encrypt(grant.access_token)
    mailbox.access_token_expires_at = grant.expires_at
    mailbox.scopes = " ".join(sorted(grant.granted))
    mailbox.status, mailbox.status_detail, mailbox.connected_at = "ok", "", now
    session.flush()
    return mailbox


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


def revoke_and_delete(
    session: Session, mailbox: GmailMailbox, settings: Settings | None = None
) -> bool:
    """Revoke the mailbox's token at Google and delete the mailbox; True if Google confirmed.

    The row is deleted even when Google cannot be reached or already forgot the token: a
    disconnect must never leave a usable token behind here.
    """
    if settings is None:
        from flask import current_app  # only when the caller has no settings at hand

        settings = current_app.config["LEADCAMP"]
    revoked = False
    if settings.token_encryption_keys:
        try:
            token = TokenCipher(settings.token_encryption_keys).decrypt(
                mailbox.refresh_token_encrypted
            )
            answer = requests.post(
                REVOKE_URI,
                data={"token": token},
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=TIMEOUT,
            )
            revoked = answer.status_code == 200
        except (GoogleAuthError, requests.RequestException):
            revoked = False
    session.delete(mailbox)
    session.flush()
    return revoked


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


SCOPE_LABELS = {
    OPENID: "Sign you in with Google",
    EMAIL: "See your email address",
    PROFILE: "See your name",
    METADATA: "Read your Gmail messages' headers and labels, never their bodies",
    SEND: "Send mail as you (server-side sending)",
    READONLY: "Read your Gmail messages, to find tracked mail the extension did not report",
}


def mailbox_of(session: Session, user: User) -> GmailMailbox | None:
    """The user's connected mailbox, if any."""
    return session.scalar(select(GmailMailbox).where(GmailMailbox.user_id == user.id))


def gmail_status(session: Session, user: User) -> dict:
    """The rep's Gmail connection as the API's `me` shows it."""
    mailbox = mailbox_of(session, user)
    if mailbox is None:
        return {"connected": False, "status": "not_connected", "email": None, "scopes": []}
    return {
        "connected": True,
        "status": mailbox.status,
        "email": mailbox.email,
        "scopes": mailbox.scope_list,
    }
