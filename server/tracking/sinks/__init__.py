"""Event sinks: where the hot path hands its events. Chosen by EVENT_SINK."""

from __future__ import annotations

from collections.abc import Callable

from config import Settings
from server.tracking.sinks.embedded import EmbeddedSink
from server.tracking.sinks.journal import Journal, JournalDrainer, WriterStopped
from server.tracking.sinks.redis_stream import RedisSink, StreamDrainer
from server.tracking.sinks.spool import Spool, replay_orphans

__all__ = [
    "EmbeddedSink",
    "Journal",
    "JournalDrainer",
    "RedisSink",
    "Spool",
    "StreamDrainer",
    "WriterStopped",
    "build_sink",
    "replay_orphans",
]


def build_sink(settings: Settings, write: Callable[[list[dict]], object]):
    """The sink the settings ask for, writing through `write`."""
    spool = Spool(settings.spool_dir)
    if settings.event_sink == "redis":
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        return RedisSink(client, settings.redis_stream, spool)
    if settings.event_sink == "journal":
        # Batches go to the local journal; `flask sink drain` writes them to the database.
        write = Journal(settings.journal_dir).append
    return EmbeddedSink(write, spool, settings.sink_flush_interval, settings.sink_batch_size)
