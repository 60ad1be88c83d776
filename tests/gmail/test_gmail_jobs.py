"""The Gmail sync's per-mailbox lock (one sync at a time, none held forever by a dead worker) and
its schedule (any interval, evenly)."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from huey import MemoryHuey

from server.extensions import db
from server.gmail.jobs import LOCK_TTL, mailbox_lock
from server.jobs import build_huey, register_tasks
from server.models import Message
from tests.support.google import with_google


@pytest.fixture
def settings(settings, tmp_path):
    """Google configured; jobs kept in a SQLite file, as a default install does."""
    return with_google(settings).replace(jobs_storage=str(tmp_path / "jobs.db"))


def test_a_sync_arriving_while_another_runs_is_skipped_not_retried(app, mailbox, reported, google):
    huey = MemoryHuey(immediate=True)
    task = register_tasks(huey, app)["gmail_sync_mailbox"]
    db.session.commit()
    with mailbox_lock(huey, mailbox.id) as acquired:
        assert acquired
        assert task.call_local(mailbox.id) is None  # no TaskLockedException, so no retries
        assert sum(google.calls.values()) == 0
    task.call_local(mailbox.id)
    db.session.expire_all()
    assert db.session.get(Message, reported[0]).confirmed_at is not None


def test_a_lock_a_killed_worker_left_expires(app, settings, mailbox):
    huey = build_huey(settings)
    stale = mailbox_lock(huey, mailbox.id, clock=lambda: time.time() - LOCK_TTL - 1)
    assert stale.__enter__()  # the worker dies here: the lock is never released
    fresh = mailbox_lock(huey, mailbox.id + 1)
    assert fresh.__enter__()
    with mailbox_lock(build_huey(settings), mailbox.id) as acquired:
        assert acquired  # taken over
    with mailbox_lock(build_huey(settings), mailbox.id + 1) as acquired:
        assert not acquired  # a live sync's lock holds


def test_the_sync_command_takes_the_workers_lock(app, settings, mailbox, google):
    db.session.commit()
    with mailbox_lock(build_huey(settings), mailbox.id):
        result = app.test_cli_runner().invoke(args=["gmail", "sync"])
    assert result.exit_code == 0, result.output
    assert "skipped (another sync is running)" in result.output
    assert sum(google.calls.values()) == 0


@pytest.mark.parametrize("minutes", [7, 2, 45])
def test_any_sync_interval_runs_evenly_across_hours(app, settings, mailbox, monkeypatch, minutes):
    monkeypatch.setitem(app.config, "LEADCAMP", settings.replace(gmail_sync_minutes=minutes))
    huey = MemoryHuey()
    sweep = register_tasks(huey, app)["gmail_sync_all"]
    db.session.commit()
    start = datetime(2026, 3, 2, 9, 0)  # naive UTC, as huey's scheduler asks
    queued_at = []
    for minute in range(3 * 60):
        tick = start + timedelta(minutes=minute)
        if "gmail_sync_all" not in {t.name for t in huey.read_periodic(tick)}:
            continue  # the scheduler does not run the sweep this minute
        # The worker runs a tick some seconds into its minute, more or fewer each time.
        ran = tick.replace(tzinfo=UTC).timestamp() + (minute * 7) % 25
        with monkeypatch.context() as clock:
            clock.setattr(time, "time", lambda ran=ran: ran)
            if sweep.call_local():
                queued_at.append(minute)
    assert pending_syncs(huey) == len(queued_at)
    gaps = {b - a for a, b in itertools.pairwise(queued_at)}
    assert queued_at[0] == 0 and gaps == {minutes}


def pending_syncs(huey) -> int:
    """Syncs the sweep queued, by the task's name."""
    return sum(t.name == "gmail_sync_mailbox" for t in huey.pending())
