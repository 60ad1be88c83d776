"""Google OAuth: the web flow (state + PKCE), granted scopes, the rep's mailbox row.

Only server/gmail/ imports Google's libraries. The code verifier of each round trip is kept in
the database keyed by its state, never in the cookie session. Tokens at rest, their refresh and
revocation, and the OAuth client itself, live in tokens.py (re-exported here).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.accounts.users import normalize_email
from server.gmail.tokens import (
    TIMEOUT,
    GoogleAuthError,
    GoogleClient,
    MailboxAuth,
    ReconnectNeeded,
    TokenCipher,
    mark_reconnect_needed,
    revoke_and_delete,
    revoke_encrypted,
    rotate_keys,
)
from server.models import GmailMailbox, OAuthState, User

# Re-exported: callers (views, jobs, the account termination) know this module only.
__all__ = [
    "GoogleAuthError",
    "GoogleClient",
    "MailboxAuth",
    "ReconnectNeeded",
    "TokenCipher",
    "mark_reconnect_needed",
    "revoke_and_delete",
    "rotate_keys",
]

# Google answers with the scopes actually granted (e.g. "email" comes back as
# ".../userinfo.email"); oauthlib would raise on any difference. We compare them ourselves.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

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


def normalize_scopes(scopes) -> set[str]:
    """Scope names in the full form Google grants them in."""
    if isinstance(scopes, str):
        scopes = scopes.split()
    return {_ALIASES.get(s, s) for s in scopes or ()}


def connect_scopes(sending: bool, read_bodies: bool = False) -> tuple[str, ...]:
    """What connecting Gmail asks for: metadata, or readonly instead when the server adopts
    unreported mail by its pixel; send only when the account sends."""
    # Never both: while gmail.metadata is granted, Gmail refuses format=FULL even to a grant
    # that also holds gmail.readonly.
    reading = READONLY if read_bodies else METADATA
    return (*SIGN_IN_SCOPES, reading, *((SEND,) if sending else ()))


def reads_headers(granted) -> bool:
    """Whether a grant lets the sync read message headers (metadata or readonly)."""
    return bool({METADATA, READONLY} & normalize_scopes(granted))


def start(
    session: Session, client: GoogleClient, purpose: str, scopes, user: User | None, now: datetime
) -> tuple[str, str]:
    """Begin a round trip: store the state's code verifier; return (authorization URL, state)."""
    session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
    flow = Flow.from_client_config(client.config(), scopes=list(scopes), state=_new_state())
    flow.redirect_uri = client.redirect_uri
    # Connecting needs a refresh token: offline access, and the consent screen every time (Google
    # hands out a refresh token only then). Signing in needs none, so it asks for none.
    if purpose == "connect":
        extra = {"access_type": "offline", "prompt": "consent"}
    else:
        extra = {"access_type": "online", "prompt": "select_account"}
    if user is not None:
        extra["login_hint"] = user.email
    url, state = flow.authorization_url(include_granted_scopes="true", **extra)
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
        email=normalize_email(info.get("email") or ""),
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
    mailbox = mailbox_of(session, user)
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
        if grant.refresh_token is None:
            raise GoogleAuthError(
                "no_refresh_token", "Google gave no offline access for this Gmail address."
            )
        # Another Gmail account replaces this one: the old grant must not stay alive at Google.
        revoke_encrypted(client.cipher, mailbox.refresh_token_encrypted)
        mailbox.history_id = None  # and its history ids mean nothing here
        mailbox.watch_expires_at = None  # nor its watch: the new address is watched anew
    if grant.refresh_token is not None:
        mailbox.refresh_token_encrypted = client.cipher.encrypt(grant.refresh_token)
    mailbox.email, mailbox.google_sub = grant.email, grant.sub
    mailbox.access_token_encrypted = client.cipher.encrypt(grant.access_token)
    mailbox.access_token_expires_at = grant.expires_at
    mailbox.scopes = " ".join(sorted(grant.granted))
    mailbox.status, mailbox.status_detail, mailbox.connected_at = "ok", "", now
    mailbox.health_notified_at = None  # healthy again: the next outage is told again
    session.flush()
    return mailbox


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
