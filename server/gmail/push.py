"""Gmail push: users.watch through Cloud Pub/Sub, on top of the periodic sweep.

Each syncing mailbox is watched (users.watch on GMAIL_PUSH_TOPIC); Gmail then publishes a notice
on every change, and Pub/Sub posts it to /gmail/push with an OIDC token it signed for the
subscription's service account. A notice only queues the mailbox's usual sync: its historyId is
never trusted to skip anything, and a lost notice is caught by the sweep, which still syncs a
watched mailbox every GMAIL_PUSH_FALLBACK_MINUTES. A watch lasts 7 days; it is renewed once it
has less than a day left (hourly job, `flask gmail watch`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from google.auth import exceptions as google_exceptions
from google.auth import jwt
from google.auth.transport.requests import Request as GoogleRequest
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.gmail import client as gmail_client
from server.gmail.client import GmailApiError
from server.gmail.tokens import GoogleAuthError, GoogleClient, ReconnectNeeded
from server.models import GmailMailbox

log = logging.getLogger(__name__)

RENEW_BEFORE = timedelta(days=1)  # a watch runs 7 days; renewed on its last day
MAX_BODY = 64 * 1024  # a Gmail notice is a few hundred bytes
# Google's OIDC signing certificates, as {key id: PEM}; google.auth.jwt verifies against them.
CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = {"accounts.google.com", "https://accounts.google.com"}
CLOCK_SKEW = 10  # seconds of disagreement between Google's clock and ours


# --- Watches --------------------------------------------------------------------------------


@dataclass
class Renewal:
    """One mailbox's users.watch: when it now runs out, or why Google refused it."""

    email: str
    expires_at: datetime | None
    error: str = ""


def due(session: Session, now: datetime) -> list[GmailMailbox]:
    """The syncing mailboxes that need a watch: none yet, or one running out within a day."""
    soon = now + RENEW_BEFORE
    query = select(GmailMailbox).where(
        GmailMailbox.status == "ok",
        or_(GmailMailbox.watch_expires_at.is_(None), GmailMailbox.watch_expires_at <= soon),
    )
    return list(session.scalars(query.order_by(GmailMailbox.id)))


def renew(
    session: Session,
    google: GoogleClient,
    mailboxes: list[GmailMailbox],
    topic: str,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Renewal]:
    """users.watch each mailbox on `topic`, keeping when each watch runs out; one refused by
    Google keeps the watch it had (the sweep covers it meanwhile) and the others go on."""
    results = []
    for mailbox in mailboxes:
        try:
            answer = gmail_client.for_mailbox(google, mailbox, sleep).watch(topic)
        except (GmailApiError, GoogleAuthError) as exc:
            # Committed all the same: a refreshed token, or the mark of a dead one, is kept.
            session.commit()
            log.warning("gmail watch of %s refused: %s", mailbox.email, exc)
            results.append(Renewal(mailbox.email, mailbox.watch_expires_at, str(exc)))
            continue
        expires = datetime.fromtimestamp(int(answer["expiration"]) / 1000, UTC)
        mailbox.watch_expires_at = expires
        session.commit()
        results.append(Renewal(mailbox.email, expires))
    return results


def stop(session: Session, google: GoogleClient, mailboxes: list[GmailMailbox]) -> list[Renewal]:
    """users.stop each mailbox (push switched off): Gmail stops publishing its changes."""
    results = []
    for mailbox in mailboxes:
        try:
            gmail_client.for_mailbox(google, mailbox).stop()
        except ReconnectNeeded as exc:
            mailbox.watch_expires_at = None  # the grant is gone, and its watch with it
            results.append(Renewal(mailbox.email, None, str(exc)))
        except (GmailApiError, GoogleAuthError) as exc:
            results.append(Renewal(mailbox.email, mailbox.watch_expires_at, str(exc)))
        else:
            mailbox.watch_expires_at = None
            results.append(Renewal(mailbox.email, None))
        session.commit()
    return results


def watched(session: Session, now: datetime) -> set[int]:
    """Ids of the mailboxes whose watch is running: Gmail pushes their changes."""
    query = select(GmailMailbox.id).where(GmailMailbox.watch_expires_at > now)
    return set(session.scalars(query))


# --- Push requests --------------------------------------------------------------------------


class PushRefused(Exception):
    """The push request's token is missing, forged, expired or not the subscription's."""


class CertsUnavailable(Exception):
    """Google's signing certificates could not be fetched: the request cannot be checked."""


class BadEnvelope(ValueError):
    """The body is not a Pub/Sub push envelope carrying a Gmail notice."""


class GoogleCerts:
    """Google's signing certificates, cached for as long as Google says (Cache-Control), and
    fetched again for a key id not among them (Google rotated its keys), at most once per
    `refetch_after` seconds so forged key ids cannot make us hammer Google."""

    def __init__(
        self,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        refetch_after: float = 30,
    ):
        self.session, self.clock, self.refetch_after = session, clock, refetch_after
        self._certs: dict[str, str] | None = None
        self._fetched = self._expires = 0.0
        self._lock = threading.Lock()

    def for_key(self, kid: str | None) -> dict[str, str]:
        """The certificates, fresh enough to hold key `kid` if Google publishes it."""
        with self._lock:
            now = self.clock()
            stale = self._certs is None or now >= self._expires
            unknown = kid is not None and kid not in (self._certs or {})
            if stale or (unknown and now - self._fetched >= self.refetch_after):
                self._fetch(now)
            return dict(self._certs or {})

    def _fetch(self, now: float) -> None:
        request = GoogleRequest(self.session or requests.Session())
        try:
            response = request(CERTS_URL, method="GET", timeout=10)
            if response.status != 200:
                raise CertsUnavailable(f"Google answered {response.status} for its certificates")
            certs = json.loads(response.data.decode("utf-8"))
        except (google_exceptions.TransportError, ValueError) as exc:
            raise CertsUnavailable(f"Google's certificates could not be read: {exc}") from exc
        self._certs, self._fetched = certs, now
        self._expires = now + _max_age(response.headers.get("cache-control", ""))


def _max_age(cache_control: str) -> float:
    """Seconds Google says its certificates stay good: between a minute and a day, else 1 h."""
    found = re.search(r"max-age=(\d+)", cache_control)
    return min(max(int(found.group(1)), 60), 86400) if found else 3600.0


def verify(authorization: str, audience: str, account: str, certs: GoogleCerts) -> dict:
    """The claims of a push request's `Authorization: Bearer` token, once checked: signed by
    Google, not expired, for `audience`, issued to the verified service account `account`."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise PushRefused("no bearer token")
    try:
        kid = jwt.decode_header(token).get("kid")
        claims = jwt.decode(
            token,
            certs=certs.for_key(kid if isinstance(kid, str) else None),
            audience=audience,
            clock_skew_in_seconds=CLOCK_SKEW,
        )
    except (ValueError, TypeError, google_exceptions.GoogleAuthError) as exc:
        raise PushRefused(f"token refused: {exc}") from exc
    if claims.get("iss") not in ISSUERS:
        raise PushRefused("token not issued by Google")
    if str(claims.get("email", "")).lower() != account or claims.get("email_verified") is not True:
        raise PushRefused("token not issued to the push service account")
    return claims


@dataclass(frozen=True)
class Notice:
    """A Gmail notice: which mailbox changed, and its history id then (for the log only)."""

    email: str
    history_id: str


def parse_envelope(body: bytes) -> Notice:
    """The Gmail notice in a Pub/Sub push body: message.data, base64 JSON {emailAddress,
    historyId}."""
    try:
        data = json.loads(body)["message"]["data"]
        data = data.replace("-", "+").replace("_", "/")  # either base64 alphabet
        notice = json.loads(base64.b64decode(data + "=" * (-len(data) % 4), validate=True))
        email, history_id = notice["emailAddress"], notice["historyId"]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise BadEnvelope(f"not a Gmail push envelope: {exc}") from exc
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        raise BadEnvelope("emailAddress is not an address")
    if isinstance(history_id, bool) or not str(history_id).isdigit():
        raise BadEnvelope("historyId is not a number")
    return Notice(email.strip().lower(), str(history_id))


def syncing_mailboxes(session: Session, email: str) -> list[int]:
    """Ids of the syncing mailboxes of the Gmail address `email` (none for one we do not know)."""
    query = select(GmailMailbox.id).where(
        func.lower(GmailMailbox.email) == email, GmailMailbox.status == "ok"
    )
    return list(session.scalars(query.order_by(GmailMailbox.id)))
