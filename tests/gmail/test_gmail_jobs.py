"""The Gmail sync's per-mailbox lock: one sync at a time, none held forever by a dead worker."""

from __future__ import annotations

import time

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
