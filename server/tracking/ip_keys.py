"""The keys of the address hashes: random, one per period, shared, forgotten when it ends.

A key derived from a lasting secret lets whoever holds the secret recompute any stored hash, and
the stored /24 prefix leaves only 256 candidates to try. A random key deleted once its period has
ended leaves nothing to recompute with: that period's hashes still tell its devices apart, but no
address can be tested against them any more.

Every web worker must hash one address alike within a period, or a device would count once per
worker: the first process to need a period's key inserts a random one (insert-or-ignore, so
racing workers keep one) and every process reads back the stored one, once per period. The same
first use deletes the keys of ended periods; the nightly purge deletes them too.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from server.models import IpHashKey
from server.tracking.summaries import insert_for

log = logging.getLogger(__name__)

KEY_BYTES = 32
# While the database cannot be reached, a process hashes with a key of its own (never stored) and
# asks again after this long; its devices may count twice in that period, but nothing is kept.
RETRY_SECONDS = 30.0


def key_for(conn: Connection, period: int) -> bytes | None:
    """The stored key of `period`, made now if there is none; None once a later period began."""
    forget_ended(conn, period)
    latest = conn.scalar(select(func.max(IpHashKey.period)))
    if latest is not None and latest > period:
        # A straggling request of an ended period: its key is gone and must not come back.
        return None
    insert = insert_for(conn, IpHashKey.__table__).values(
        period=period, key=secrets.token_bytes(KEY_BYTES)
    )
    conn.execute(insert.on_conflict_do_nothing(index_elements=["period"]))
    return conn.scalar(select(IpHashKey.key).where(IpHashKey.period == period))


def forget_ended(conn: Connection, current: int) -> int:
    """Delete the keys of periods before `current`; returns how many were deleted."""
    return conn.execute(delete(IpHashKey).where(IpHashKey.period < current)).rowcount


class StoredKeys:
    """A process's source of period keys for `IpHasher`: the database's, cached per period."""

    def __init__(self, engine: Callable[[], Engine], clock: Callable[[], float] = time.monotonic):
        self.engine = engine
        self.clock = clock
        # (period, key, retry at): replaced whole, so concurrent requests never pair a key with
        # the wrong period. Retry at 0 means stored: kept until the period changes.
        self._current: tuple[int, bytes, float] | None = None

    def __call__(self, period: int) -> bytes:
        """The key of `period`; the database is asked once per period and process."""
        current = self._current
        fresh = current is not None and (not current[2] or self.clock() < current[2])
        if fresh and current[0] == period:
            return current[1]
        try:
            with self.engine().begin() as conn:
                key = key_for(conn, period)
        except SQLAlchemyError as exc:
            log.warning("address hash key not available (%s); using a temporary one", exc)
            key = secrets.token_bytes(KEY_BYTES)
            self._current = (period, key, self.clock() + RETRY_SECONDS)
            return key
        if key is None:
            # Hashed once under a throwaway key: unlinkable to anything, which suits a straggler.
            return secrets.token_bytes(KEY_BYTES)
        self._current = (period, key, 0.0)
        return key
