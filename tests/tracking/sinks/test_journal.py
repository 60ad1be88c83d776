"""The journal between web workers and the writer process, against a real database."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from server.extensions import db
from server.models import Event
from server.tracking.ingest import BatchWriter
from server.tracking.sinks import EmbeddedSink, Journal, JournalDrainer, Spool, WriterStopped
from tests.support import make_event, report_message, wait_for


@pytest.fixture(autouse=True)
def reported(kid):
    """Hits count only for a reported message of the key's rep."""
    report_message(kid)


def stored() -> int:
    db.session.expire_all()
    return db.session.query(Event).count()


def test_batches_are_written_in_order_and_removed(app, kid, tmp_path):
    journal = Journal(tmp_path)
    batches = [[make_event(kid) for _ in range(5)] for _ in range(3)]
    for batch in batches:
        journal.append(batch)
    assert len(list(tmp_path.glob("*.batch"))) == 3
    seen = []
    writer = BatchWriter(db.engine)

    def write(batch):
        seen.append([e["id"] for e in batch])
        return writer(batch)

    assert JournalDrainer(tmp_path, write).drain_once() == 15
    assert seen == [[e["id"] for e in b] for b in batches]
    assert stored() == 15 and not list(tmp_path.glob("*.batch"))


def test_a_failed_write_keeps_the_batch_and_a_retry_counts_it_once(app, kid, tmp_path):
    Journal(tmp_path).append([make_event(kid) for _ in range(4)])
    writer = BatchWriter(db.engine)
    calls = []

    def flaky(batch):
        calls.append(1)
        writer(batch)  # committed, then the drainer dies before removing the file
        if len(calls) == 1:
            raise ConnectionError("killed after the commit")

    drainer = JournalDrainer(tmp_path, flaky)
    with pytest.raises(ConnectionError):
        drainer.drain_once()
    assert len(list(tmp_path.glob("*.batch"))) == 1
    drainer.drain_once()
    assert stored() == 4 and not list(tmp_path.glob("*.batch"))


def test_unfinished_temporary_files_are_never_read(app, kid, tmp_path):
    (tmp_path / ".123-1-0.tmp").write_bytes(b"half a batch")
    Journal(tmp_path).append([make_event(kid)])
    assert JournalDrainer(tmp_path, BatchWriter(db.engine)).drain_once() == 1


def test_the_sink_feeds_the_journal_and_the_drainer_writes_until_stopped(app, kid, tmp_path):
    sink = EmbeddedSink(Journal(tmp_path).append, Spool(tmp_path / "spool"), flush_interval=0.05)
    drainer = JournalDrainer(tmp_path, BatchWriter(db.engine))
    stop = threading.Event()
    thread = threading.Thread(target=drainer.run, args=(stop.is_set, 0.02))
    thread.start()
    for _ in range(50):
        sink.put(make_event(kid))
    assert wait_for(lambda: stored() >= 50) and stored() == 50
    for _ in range(7):
        sink.put(make_event(kid))
    sink.close()  # the worker exits: its last batch goes to the journal
    stop.set()
    thread.join(timeout=60)  # the drainer's final pass writes it
    assert not thread.is_alive()
    assert stored() == 57


def test_a_second_drainer_on_the_same_journal_is_refused_by_name(app, tmp_path):
    holding, release = threading.Event(), threading.Event()

    def hold() -> bool:
        holding.set()
        return release.wait(30)

    first = JournalDrainer(tmp_path, lambda batch: len(batch))
    thread = threading.Thread(target=first.run, args=(hold,), kwargs={"idle_sleep": 0.01})
    thread.start()
    try:
        assert holding.wait(30)
        with pytest.raises(WriterStopped, match=rf"another writer \(pid {os.getpid()}\)"):
            JournalDrainer(tmp_path, lambda batch: len(batch)).run(lambda: True)
    finally:
        release.set()
        thread.join(30)
    # Once the first one stopped, the next writer takes over.
    JournalDrainer(tmp_path, lambda batch: len(batch)).run(lambda: True)


def test_a_writer_that_must_stop_leaves_its_batch_in_the_journal(app, kid, tmp_path):
    Journal(tmp_path).append([make_event(kid) for _ in range(3)])

    def refusing(batch):
        raise WriterStopped("the database file was replaced")

    with pytest.raises(WriterStopped):
        JournalDrainer(tmp_path, refusing).run(lambda: False)
    assert len(list(tmp_path.glob("*.batch"))) == 1 and stored() == 0


def test_journal_and_spool_files_are_private_even_under_a_loose_umask(tmp_path):
    previous = os.umask(0o022)  # a library or a shell may leave any umask; the files ask for theirs
    try:
        Journal(tmp_path / "journal").append([make_event("k1")])
        spool = Spool(tmp_path / "spool")
        spool.append([make_event("k1")])
        spool.close()
        (tmp_path / "journal" / "new").mkdir()  # what the umask alone gives, for contrast
    finally:
        os.umask(previous)
    [batch] = (tmp_path / "journal").glob("*.batch")
    [spooled] = (tmp_path / "spool").glob("events-*.jsonl")
    assert [mode(batch), mode(spooled)] == [0o600, 0o600]
    assert [mode(tmp_path / "journal"), mode(tmp_path / "spool")] == [0o700, 0o700]
    assert mode(tmp_path / "journal" / "new") == 0o755


def mode(path) -> int:
    """The permission bits of `path`."""
    return stat.S_IMODE(path.stat().st_mode)
