"""The address-hash keys: random per period, one for every process, gone once the period ends.

The recovery tests attack the stored `ip_prefix` and `ip_hash` as someone holding the database
and the configuration would: every /24 host under every key still stored or derivable from the
server's secrets.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import Event, IpHashKey
from server.tracking.deidentify import key_period
from server.tracking.ip_keys import StoredKeys
from tests.support import pixel_for, report_message

SECRET = "test-link-secret"
MID = "q2X0c1ZPq0nqz7lU4m2GdA"
ADDRESS = "198.51.100.203"
DAY = 86400


@pytest.fixture(autouse=True)
def reported(kid):
    """Hits count only for a reported message of the key's rep."""
    report_message(kid, MID)


def candidate_keys(settings, period: int) -> list[bytes]:
    """Every key an attacker could try: those stored, and those derivable from the settings."""
    db.session.expire_all()
    stored = list(db.session.scalars(select(IpHashKey.key)))
    label = f"leadcamp ip hash key {period}".encode()
    configured = [settings.secret_key, *settings.link_secrets]
    return stored + [hmac.digest(s.encode(), label, "sha256") for s in configured]


def brute_force(event: Event, keys: list[bytes]) -> str | None:
    """The address behind the event's prefix and hash, if one of `keys` gives it away."""
    for key in keys:
        for host in ipaddress.ip_network(f"{event.ip_prefix}/24"):
            digest = hmac.digest(key, str(host).encode(), "sha256").hex()[:32]
            if digest == event.ip_hash:
                return str(host)
    return None


def hit_at(app, client, kid, at: float) -> Event:
    """Open the pixel from ADDRESS with the recorder's clock at `at`; the stored event."""
    recorder = app.extensions["leadcamp.recorder"]
    recorder.clock = lambda: at
    try:
        client.get(pixel_for(SECRET, kid, MID), environ_base={"REMOTE_ADDR": ADDRESS})
    finally:
        recorder.clock = time.time
    app.extensions["leadcamp.sink"].flush()
    db.session.expire_all()
    since = datetime.fromtimestamp(at - 0.001, UTC)
    return db.session.scalars(select(Event).where(Event.occurred_at >= since)).one()


def periods() -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(IpHashKey.period)))


def test_an_address_is_not_recoverable_once_its_period_has_ended(app, client, kid, settings):
    now = time.time()
    past = now - 2 * DAY
    old = hit_at(app, client, kid, past)
    assert old.ip_prefix == "198.51.100.0" and old.ip_hash
    # While the period lasts its key is stored, and the attack works: it can detect recovery.
    assert brute_force(old, candidate_keys(settings, key_period(past, 24))) == ADDRESS

    current = hit_at(app, client, kid, now)  # the next period's first use rolls the keys over
    assert brute_force(old, candidate_keys(settings, key_period(past, 24))) is None
    assert brute_force(current, candidate_keys(settings, key_period(now, 24))) == ADDRESS
    assert periods() == [key_period(now, 24)]


def test_the_purge_deletes_the_keys_of_ended_periods(app, client, kid, settings):
    past = time.time() - 2 * DAY
    old = hit_at(app, client, kid, past)
    assert brute_force(old, candidate_keys(settings, key_period(past, 24))) == ADDRESS
    result = app.test_cli_runner().invoke(args=["purge"])  # no hit since: the purge forgets it
    assert result.exit_code == 0, result.output
    assert brute_force(old, candidate_keys(settings, key_period(past, 24))) is None
    assert periods() == []


def test_two_app_instances_on_one_database_hash_an_address_alike(app, settings):
    other = create_app(settings)
    try:
        now = time.time()
        mine = app.extensions["leadcamp.recorder"].hasher.hash(ADDRESS, now)
        theirs = other.extensions["leadcamp.recorder"].hasher.hash(ADDRESS, now)
        assert mine == theirs
        assert periods() == [key_period(now, 24)]
    finally:
        other.extensions["leadcamp.sink"].close()


def test_workers_racing_for_a_new_period_keep_one_key(app):
    period, workers = key_period(time.time(), 24), 8
    start, keys, engine = threading.Barrier(workers), [], db.engine

    def first_use():
        source = StoredKeys(lambda: engine)
        start.wait()
        keys.append(source(period))

    threads = [threading.Thread(target=first_use) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == workers and len(set(keys)) == 1
    assert periods() == [period] and len(keys[0]) == 32


def test_a_straggler_of_an_ended_period_brings_no_key_back(app):
    period = key_period(time.time(), 24)
    current = StoredKeys(lambda: db.engine)(period)
    late = StoredKeys(lambda: db.engine)(period - 1)
    assert late != current and late not in db.session.scalars(select(IpHashKey.key)).all()
    assert periods() == [period]


def test_a_process_asks_the_database_once_per_period(app):
    source = StoredKeys(lambda: db.engine)
    period = key_period(time.time(), 24)
    first = source(period)
    with db.engine.begin() as conn:  # someone else's key would show if the cache were bypassed
        conn.execute(IpHashKey.__table__.update().values(key=b"\0" * 32))
    assert source(period) == first
    assert StoredKeys(lambda: db.engine)(period) == b"\0" * 32
