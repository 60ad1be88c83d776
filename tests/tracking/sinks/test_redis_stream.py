"""The Redis stream sink and drainer against a real Redis: at least once, counted once."""

from __future__ import annotations

import pytest
import redis

from server.common import signing
from server.extensions import db
from server.models import Event
from server.tracking.ingest import BatchWriter
from server.tracking.sinks import RedisSink, Spool, StreamDrainer
from tests.support import make_event, report_message


@pytest.fixture(autouse=True)
def reported(kid):
    """Hits count only for a reported message of the key's rep."""
    report_message(kid)


@pytest.fixture
def client():
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not answering")
    return client


@pytest.fixture
def stream(client):
    name = f"test:events:{signing.new_message_id()}"
    yield name
    client.delete(name)


def stored():
    db.session.expire_all()
    return db.session.query(Event).count()


def test_a_dead_drainers_entries_are_claimed_and_counted_once(app, client, stream, kid, tmp_path):
    sink = RedisSink(client, stream, Spool(tmp_path))
    for _ in range(25):
        sink.put(make_event(kid))
    writer = BatchWriter(db.engine)
    dead = StreamDrainer(client, stream, writer, batch_size=10, consumer="dead")
    taken = dead._read(">", None)  # read, then die before writing or acknowledging
    assert len(taken) == 10
    alive = StreamDrainer(client, stream, writer, batch_size=10, claim_idle_ms=0, consumer="alive")
    while alive.drain_once(block_ms=100):
        pass
    assert stored() == 25
    dead.drain_once(block_ms=100)  # the dead one comes back and replays its pending batch
    assert stored() == 25
    assert client.xlen(stream) == 0


def test_a_failed_write_stays_pending_and_is_retried(app, client, stream, kid, tmp_path):
    sink = RedisSink(client, stream, Spool(tmp_path))
    for _ in range(5):
        sink.put(make_event(kid))
    calls = []
    writer = BatchWriter(db.engine)

    def flaky(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return writer(batch)

    drainer = StreamDrainer(client, stream, flaky, consumer="one")
    with pytest.raises(ConnectionError):
        drainer.drain_once(block_ms=100)
    assert drainer.drain_once(block_ms=100) == 5
    assert calls == [5, 5] and stored() == 5


def test_redis_down_spools_locally_and_catches_up(app, client, stream, kid, tmp_path):
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    spool = Spool(tmp_path)
    sink = RedisSink(down, stream, spool)
    sink.put(make_event(kid))
    assert spool.pending()
    sink.client = client
    sink.put(make_event(kid))
    assert not spool.pending()
    assert client.xlen(stream) == 2
