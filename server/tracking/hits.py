"""Turns one verified tracking hit into a de-identified event and hands it to the sink.

This is the hot path's only logic. A hit of a key whose tracking is switched off is dropped
first, before anything of it is derived or queued. The raw address and user agent live in the
arguments of `record` and nowhere else: location and device are derived first, then the address
is kept truncated and as a keyed hash under the period's key; the user agent is dropped.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from server.common.signing import Hit
from server.models import Account, SigningKey, User
from server.tracking.deidentify import IpHasher, client_address
from server.tracking.geo import GeoLocator
from server.tracking.verdicts.agent import CLASSIFIER_VERSION, classify_agent, is_prefetch
from server.tracking.verdicts.network import NetworkIndex
from server.tracking.verdicts.request import evidence, request_verdict

log = logging.getLogger(__name__)


_PROCESS: dict = {}


def _new_process() -> None:
    _PROCESS.update(prefix=secrets.token_urlsafe(6), counter=itertools.count())


_new_process()
os.register_at_fork(after_in_child=_new_process)  # forked workers must not share a prefix


def new_event_id() -> str:
    """A unique, time-ordered event id (the idempotency key): nanoseconds, process, sequence.

    Time-ordered keys append to the end of the primary-key index instead of landing at random
    places in it; random ones made each insert about a third slower on a table of 100k events.
    """
    return f"{time.time_ns():x}{_PROCESS['prefix']}{next(_PROCESS['counter']):x}"


class EventSink(Protocol):
    """Where recorded events go; see server/tracking/sinks/."""

    def put(self, event: dict) -> None:
        """Accept one event; must not block on the database."""

    def close(self) -> None:
        """Deliver everything still held."""


# Switched off means not written: a hit of a switched-off account or rep is dropped here, before
# anything of it is derived or queued, so it never reaches the local journal on its way to the
# writer. The hot path must not ask the database per hit, so each process keeps the set of key ids
# whose hits the writer would refuse (account switch off, the rep's override off, rep deactivated,
# key revoked) and refreshes it at most every TTL_SECONDS: one query per process per interval,
# whatever the traffic. The writer keeps its own check, for hits queued before a switch.

# How long a switch takes at most to stop a worker's recording (docs/privacy.md, "Switches").
TTL_SECONDS = 5.0


def untracked_keys(engine: Engine) -> frozenset[str]:
    """Ids of the signing keys whose hits are not recorded."""
    query = (
        select(SigningKey.kid)
        .join(User, User.id == SigningKey.user_id)
        .join(Account, Account.id == SigningKey.account_id)
        .where(
            or_(
                SigningKey.revoked_at.is_not(None),
                User.active.is_(False),
                Account.tracking_enabled.is_(False),
                User.tracking_enabled.is_(False),
            )
        )
    )
    with engine.connect() as conn:
        return frozenset(conn.scalars(query))


class TrackingSwitches:
    """`is_off(kid)` for the hot path, from a snapshot at most `ttl` seconds old."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.engine = engine
        self.ttl = ttl
        self.clock = clock
        self._off: frozenset[str] = frozenset()
        self._expires = 0.0
        self._lock = threading.Lock()

    def is_off(self, kid: str) -> bool:
        """Whether hits signed with `kid` are to be dropped now."""
        if self.clock() >= self._expires:
            self._refresh()
        return kid in self._off

    def _refresh(self) -> None:
        if not self._expires:
            # The process's first hit waits for the first snapshot: none is known yet.
            with self._lock:
                if not self._expires:
                    self._load()
            return
        # Later refreshes run beside the requests, which go on with the last snapshot: a slow
        # or unreachable database never holds up an image or a redirect.
        if self._lock.acquire(blocking=False):
            self._expires = self.clock() + self.ttl  # one refresh at a time
            threading.Thread(target=self._load_and_release, daemon=True).start()

    def _load_and_release(self) -> None:
        try:
            self._load()
        finally:
            self._lock.release()

    def _load(self) -> None:
        try:
            self._off = untracked_keys(self.engine())
        except SQLAlchemyError as exc:
            # The last known switches stand (the writer checks again); asked again later.
            log.warning("tracking switches not refreshed (%s)", type(exc).__name__)
        self._expires = self.clock() + self.ttl


class HitRecorder:
    """Classifies, locates and de-identifies a hit, then queues it as an event."""

    def __init__(
        self,
        sink: EventSink,
        locator: GeoLocator,
        hasher: IpHasher,
        network: NetworkIndex,
        trusted_proxies: tuple = (),
        clock: Callable[[], float] = time.time,
        switches: TrackingSwitches | None = None,
    ):
        self.sink = sink
        self.locator = locator
        self.hasher = hasher
        self.network = network
        self.trusted_proxies = trusted_proxies
        self.clock = clock
        self.switches = switches

    def record(
        self,
        kind: str,
        hit: Hit,
        *,
        method: str,
        remote_addr: str | None,
        forwarded_for: str | None,
        user_agent: str,
        purpose: str = "",
        has_language: bool = True,
    ) -> dict | None:
        """Build the event for one hit and queue it; returns the event, None if dropped."""
        if self.switches is not None and self.switches.is_off(hit.kid):
            return None  # switched off: nothing of the hit is written, not even to the journal
        now = self.clock()
        ip, prefix = client_address(remote_addr, forwarded_for, self.trusted_proxies) or (
            None,
            None,
        )
        owner = self.network.owner_of_block(prefix)
        agent = classify_agent(kind, user_agent)
        prefetch = is_prefetch(purpose)
        verdict = request_verdict(kind, agent, owner, method, prefetch)
        # Proxied hits come from the proxy's network, not the reader's: location is hidden.
        place = self.locator.locate_block(prefix) if verdict.verdict != "proxy" else None
        event = {
            "id": new_event_id(),
            "kid": hit.kid,
            "message_id": hit.mid,
            "kind": kind,
            "occurred_at": now,
            "verdict": verdict.verdict,
            "reasons": ",".join(verdict.reasons),
            "classifier_version": CLASSIFIER_VERSION,
            "evidence": evidence(agent, owner, prefetch, has_language),
            "method": method[:8],
            "link_url": hit.url,
            "ip_prefix": prefix,
            "ip_hash": self.hasher.hash(ip, now) if ip else None,
            "country": place.country if place else None,
            "region": place.region if place else None,
            "city": place.city if place else None,
            "device_type": verdict.device_type,
            "os_family": verdict.os_family,
            "browser_family": verdict.browser_family,
        }
        self.sink.put(event)
        return event
