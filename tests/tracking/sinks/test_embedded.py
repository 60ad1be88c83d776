"""The embedded sink and its spool, against a real database that can be locked."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from server.extensions import db
from server.models import Event
from server.tracking.ingest import BatchWriter
from server.tracking.sinks import EmbeddedSink, Spool, replay_orphans
from tests.support import make_event, report_message, wait_for


@pytest.fixture(autouse=True)
def reported(kid):
    """Hits count only for a reported message of the key's rep."""
    report_message(kid)


def stored() -> int:
    db.session.expire_all()
    return db.session.query(Event).count()


def test_flushes_on_interval_size_and_close(app, kid, tmp_path):
    writes = []
    writer = BatchWriter(db.engine)

    def write(batch):
        writes.append(len(batch))
        return writer(batch)

    sink = EmbeddedSink(write, Spool(tmp_path), flush_interval=0.1, batch_size=50)
    sink.put(make_event(kid))
    assert wait_for(lambda: stored() == 1)  # interval
    slow = EmbeddedSink(write, Spool(tmp_path), flush_interval=3600, batch_size=50)
    for _ in range(50):
        slow.put(make_event(kid))
    assert wait_for(lambda: stored() == 51)  # size
    for _ in range(7):
        slow.put(make_event(kid))
    assert stored() == 51
    slow.close()  # shutdown
    sink.close()
    assert stored() == 58
    assert max(writes) <= 50


def test_a_flush_returns_only_after_the_batch_in_flight_is_written(tmp_path):
    """flush() while the flusher thread is writing waits for that write (callers then read it)."""
    writing, release, written = threading.Event(), threading.Event(), []

    def write(batch):
        writing.set()
        release.wait(30)
        written.extend(batch)

    sink = EmbeddedSink(write, Spool(tmp_path), flush_interval=0.01, batch_size=50)
    sink.put({"n": 1})
    assert writing.wait(30)  # the flusher thread holds the batch, the buffer is empty
    caller = threading.Thread(target=sink.flush)
    caller.start()
    caller.join(0.2)
    assert caller.is_alive(), "flush returned while the batch was still being written"
    release.set()
    caller.join(30)
    assert written == [{"n": 1}]
    sink.close()


def test_an_outage_spools_then_replays_exactly_once(app, kid, settings, tmp_path):
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("the PostgreSQL outage is exercised with the live server")
    engine = create_engine(settings.database_url, connect_args={"timeout": 0.2})
    spool = Spool(tmp_path / "spool")
    sink = EmbeddedSink(BatchWriter(engine), spool, flush_interval=0.05, batch_size=1000)
    lock = sqlite3.connect(url.database, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    events = [make_event(kid) for _ in range(120)]
    for e in events[:60]:
        sink.put(e)
    assert wait_for(lambda: spool.pending())
    lock.execute("COMMIT")
    for e in events[60:]:
        sink.put(e)
    assert wait_for(lambda: stored() == 120 and not spool.pending(), timeout=15)
    sink.close()
    assert stored() == 120
    assert not list((tmp_path / "spool").glob("*.jsonl"))
    engine.dispose()


def test_spool_files_of_dead_processes_are_replayed_once(app, kid, tmp_path):
    events = [make_event(kid) for _ in range(30)]
    # A process that spooled and died: its lock is gone with it.
    code = (
        "import json, sys; from pathlib import Path; from server.tracking.sinks import Spool; "
        "s = Spool(Path(sys.argv[1])); s.append(json.loads(sys.argv[2])); import os; os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path), json.dumps(events)], check=True)
    # A live process's spool is left alone.
    mine = Spool(tmp_path)
    mine.append([make_event(kid)])
    writer = BatchWriter(db.engine)
    assert replay_orphans(tmp_path, writer, batch_size=7) == 30
    assert stored() == 30
    assert replay_orphans(tmp_path, writer, batch_size=7) == 0
    assert len(list(tmp_path.glob("*.jsonl"))) == 1
    mine.replay(writer, 10)
    assert stored() == 31


def test_a_torn_last_line_is_skipped(app, kid, tmp_path):
    path = tmp_path / "events-1-1.jsonl"
    path.write_text(json.dumps(make_event(kid)) + "\n" + '{"id": "torn')
    assert replay_orphans(tmp_path, BatchWriter(db.engine), 10) == 1
    assert stored() == 1
