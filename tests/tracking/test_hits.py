"""The recorder: event ids unique across processes and ordered in time; switched off means not
written (hits of a switched-off account or rep never reach the journal).

The switch tests run the app with the production sink (EVENT_SINK=journal) and read the journal
and spool files byte by byte for anything of the hit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.extensions import db
from server.models import SigningKey
from server.tracking.fastpath import GIF
from server.tracking.hits import TTL_SECONDS, TrackingSwitches, new_event_id
from tests.support import click_for, pixel_for, report_message, wait_for

SECRET = "test-link-secret"
MID = "q2X0c1ZPq0nqz7lU4m2GdA"
ADDRESS = "198.51.100.203"
# A link carrying the recipient's address, as campaign links often do.
URL = "https://example.com/offer?email=jane%40example.com"


@pytest.fixture
def settings(settings, tmp_path):
    """The production sink: web workers hand batches to a local journal."""
    return settings.replace(event_sink="journal", journal_dir=tmp_path / "journal")


@pytest.fixture
def reported(kid):
    """Hits count only for a reported message of the key's rep."""
    report_message(kid, MID)


def hit_pixel_and_link(client, kid) -> None:
    """Open and click from ADDRESS; the recipient still gets the image and the redirect."""
    environ = {"REMOTE_ADDR": ADDRESS}
    pixel = client.get(pixel_for(SECRET, kid, MID), environ_base=environ)
    assert (pixel.status_code, pixel.data) == (200, GIF)
    click = client.get(click_for(SECRET, kid, MID, URL), environ_base=environ)
    assert (click.status_code, click.headers["Location"]) == (302, URL)


def written(app, settings) -> bytes:
    """Every byte the worker wrote to its journal and spool, once its batch is handed over."""
    app.extensions["leadcamp.sink"].flush()
    files = [*Path(settings.journal_dir).rglob("*"), *Path(settings.spool_dir).rglob("*")]
    return b"".join(f.read_bytes() for f in sorted(files) if f.is_file())


def test_a_tracked_hit_is_journaled(app, client, kid, settings, reported):
    # The contrast that shows the check below can see a hit in the journal.
    hit_pixel_and_link(client, kid)
    data = written(app, settings)
    assert URL.encode() in data and b"198.51.100.0" in data


@pytest.mark.parametrize("switch", ["account", "rep"])
def test_a_switched_off_hit_is_never_written(app, client, kid, rep, settings, reported, switch):
    if switch == "account":
        rep[0].account.tracking_enabled = False
    else:
        rep[0].tracking_enabled = False
    db.session.commit()
    hit_pixel_and_link(client, kid)
    data = written(app, settings)
    assert data == b""
    assert not list(Path(settings.journal_dir).glob("*.batch"))


def test_a_switch_takes_effect_within_the_ttl(app, kid, rep):
    now, engine = [0.0], db.engine
    switches = TrackingSwitches(lambda: engine, clock=lambda: now[0])
    assert not switches.is_off(kid)  # the first snapshot is read before answering
    rep[0].account.tracking_enabled = False
    db.session.commit()
    now[0] = TTL_SECONDS - 0.1
    assert not switches.is_off(kid)  # the snapshot is still the last one
    now[0] = TTL_SECONDS  # due: refreshed beside the requests, which do not wait for it
    assert wait_for(lambda: switches.is_off(kid))
    rep[0].account.tracking_enabled = True
    db.session.commit()
    now[0] = 2 * TTL_SECONDS
    assert wait_for(lambda: not switches.is_off(kid))


def test_a_deactivated_rep_or_a_revoked_key_is_off_too(app, kid, rep):
    engine = db.engine
    rep[0].active = False
    db.session.commit()
    assert TrackingSwitches(lambda: engine).is_off(kid)
    rep[0].active = True
    db.session.get(SigningKey, kid).revoked_at = rep[0].created_at
    db.session.commit()
    switches = TrackingSwitches(lambda: engine)
    assert switches.is_off(kid) and not switches.is_off("unknown-kid")
    rep[0].tracking_enabled = None
    db.session.get(SigningKey, kid).revoked_at = None
    db.session.commit()
    assert not TrackingSwitches(lambda: engine).is_off(kid)


def test_event_ids_are_unique_and_time_ordered():
    ids = [new_event_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) <= 32 for i in ids)
    assert sorted(ids, key=lambda i: int(i[:16], 16)) == ids


def test_a_forked_process_gets_its_own_prefix():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, new_event_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    mine = new_event_id()
    assert child[16:24] != mine[16:24]
