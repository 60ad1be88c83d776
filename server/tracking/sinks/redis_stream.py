"""The Redis-stream event sink and its drain worker.

A hit is in Redis before its response is sent, so a killed web worker loses nothing. Drain workers
read the stream as one consumer group, write batches to the database and acknowledge only after
the commit; entries of a drain worker that died are claimed by another after `claim_idle`.
Delivery is at least once; the events' idempotency keys make a replay count once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable

import redis

from server.tracking.sinks.journal import WriterStopped
from server.tracking.sinks.spool import Spool

log = logging.getLogger(__name__)

GROUP = "writers"


class RedisSink:
    """XADDs each event; falls back to the local spool while Redis is unreachable."""

    def __init__(self, client: redis.Redis, stream: str, spool: Spool):
        self.client = client
        self.stream = stream
        self.spool = spool

    def put(self, event: dict) -> None:
        """Append one event to the stream (synchronously: it is durable when this returns)."""
        try:
            self._xadd([event])
            if self.spool.pending():
                self.spool.replay(self._xadd, 500)
        except redis.RedisError as exc:
            log.warning("redis unreachable (%s); spooling one event", type(exc).__name__)
            self.spool.append([event])

    def _xadd(self, events: list[dict]) -> None:
        if len(events) == 1:
            self.client.xadd(self.stream, {"e": json.dumps(events[0], separators=(",", ":"))})
            return
        pipe = self.client.pipeline(transaction=False)
        for event in events:
            pipe.xadd(self.stream, {"e": json.dumps(event, separators=(",", ":"))})
        pipe.execute()

    def close(self) -> None:
        """Nothing is held in memory; release the spool file."""
        self.spool.close()


class StreamDrainer:
    """One consumer of the stream's group: read, write, acknowledge."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        write: Callable[[list[dict]], object],
        batch_size: int = 2000,
        claim_idle_ms: int = 30_000,
        consumer: str | None = None,
    ):
        self.client = client
        self.stream = stream
        self.write = write
        self.batch_size = batch_size
        self.claim_idle_ms = claim_idle_ms
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._ensure_group()

    def _ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def drain_once(self, block_ms: int = 1000) -> int:
        """Write one batch: our own unacknowledged entries first, then stale ones, then new."""
        entries = self._read("0", None) or self._claim() or self._read(">", block_ms)
        if not entries:
            return 0
        self.write([json.loads(fields[b"e"]) for _, fields in entries])
        ids = [entry_id for entry_id, _ in entries]
        pipe = self.client.pipeline()
        pipe.xack(self.stream, GROUP, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()
        return len(ids)

    def _read(self, start: str, block_ms: int | None) -> list:
        reply = self.client.xreadgroup(
            GROUP, self.consumer, {self.stream: start}, count=self.batch_size, block=block_ms
        )
        return [e for _, entries in reply or [] for e in entries if e[1]]

    def _claim(self) -> list:
        _, entries, _ = self.client.xautoclaim(
            self.stream, GROUP, self.consumer, self.claim_idle_ms, "0-0", count=self.batch_size
        )
        return [e for e in entries if e and e[1]]

    def run(self, should_stop: Callable[[], bool], idle_sleep: float = 1.0) -> None:
        """Drain until `should_stop()`; on a database error keep the batch pending and back off."""
        failures = 0
        while not should_stop():
            try:
                self.drain_once()
                failures = 0
            except WriterStopped:
                raise
            except redis.RedisError:
                log.exception("redis error while draining")
                time.sleep(idle_sleep)
            except Exception as exc:
                failures += 1
                log.warning("event write failed (%s); retrying", type(exc).__name__)
                time.sleep(min(5.0, 0.25 * 2**failures))
