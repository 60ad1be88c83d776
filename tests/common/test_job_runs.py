"""Job runs: claimed once, their outcome and its reason recorded, abandoned runs ended, old
runs purged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy import func, select

from server.common import job_runs
from server.common.job_runs import JobFailed
from server.extensions import db
from server.jobs import register_tasks
from server.models import JobRun, JobRunAddress
from server.models.base import utcnow


@pytest.fixture
def queued(rep):
    """A queued run of the rep's, with two items naming people."""

    def make(kind="contacts_import", items=None) -> JobRun:
        items = items or [{"email": "Ana@Acme.com", "status": "queued"}, {"email": "bo@x.test"}]
        run = job_runs.create(db.session, kind, rep[0], {"what": "to do"}, items)
        db.session.commit()
        return run

    return make


def test_a_run_is_claimed_once(app, queued):
    run = queued()
    assert run.total == 2 and {a.email for a in run.addresses} == {"ana@acme.com", "bo@x.test"}
    assert job_runs.claim(db.session, run.id, utcnow()).status == "running"
    assert job_runs.claim(db.session, run.id, utcnow()) is None
    assert job_runs.claim(db.session, "no-such-run", utcnow()) is None
    done = []
    assert job_runs.perform(db.session, run.id, lambda s, r: done.append(r.id)) is None
    assert done == []  # a run already taken is not done again


def test_perform_records_the_outcome_and_drops_the_input(app, queued):
    run = queued()
    assert job_runs.perform(db.session, run.id, lambda s, r: None) == "succeeded"
    db.session.expire_all()
    run = db.session.get(JobRun, run.id)
    assert run.input is None and run.started_at <= run.finished_at and run.error is None


def test_a_failure_is_recorded_with_its_reason(app, queued, caplog):
    def refuse(session, run):
        raise JobFailed("The file is gone.")

    def crash(session, run):
        run.result = {"half": "done"}
        raise RuntimeError("bug")

    first, second = queued(), queued()
    assert job_runs.perform(db.session, first.id, refuse) == "failed"
    with caplog.at_level(logging.ERROR):
        assert job_runs.perform(db.session, second.id, crash) == "failed"
    assert "bug" in caplog.text
    db.session.expire_all()
    assert db.session.get(JobRun, first.id).error == "The file is gone."
    crashed = db.session.get(JobRun, second.id)
    assert crashed.error == job_runs.SERVER_ERROR and crashed.result is None  # rolled back


def test_a_crash_while_an_item_is_being_sent_ends_unknown(app, queued):
    def crash_while_sending(session, run):
        run.items = [run.items[0] | {"status": "sending"}, run.items[1]]
        session.commit()
        raise RuntimeError("the database went away after Gmail answered")

    run = queued("gmail_send")
    assert job_runs.perform(db.session, run.id, crash_while_sending) == "unknown"
    db.session.expire_all()
    run = db.session.get(JobRun, run.id)
    assert run.error == job_runs.MAYBE_SENT and run.items[0]["status"] == "unknown"


def test_a_cancelled_run_keeps_its_cancellation(app, queued):
    run = queued()

    def cancelled_meanwhile(session, run):
        table = JobRun.__table__
        cancel = table.update().where(table.c.id == run.id)
        session.execute(cancel.values(status="failed", error="Cancelled."))
        session.commit()

    assert job_runs.perform(db.session, run.id, cancelled_meanwhile) == "failed"
    db.session.expire_all()
    assert db.session.get(JobRun, run.id).error == "Cancelled."


def test_a_queue_that_cannot_be_reached_fails_the_run(app, queued):
    class Down:
        def enqueue(self, kind, run_id):
            raise ConnectionError("redis is down")

    run = queued()
    with pytest.raises(ConnectionError):
        job_runs.submit(db.session, Down(), run)
    db.session.expire_all()
    run = db.session.get(JobRun, run.id)
    assert run.status == "failed" and "queue" in run.error


def test_runs_whose_worker_died_are_ended(app, queued):
    now = utcnow()
    stuck, sending, fresh, lost, waiting = (queued("gmail_send") for _ in range(5))
    for run in (stuck, sending, fresh):
        job_runs.claim(db.session, run.id, now)
    db.session.expire_all()
    sending.items = [sending.items[0] | {"status": "sending"}, sending.items[1]]
    for run in (stuck, sending):
        run.updated_at = now - job_runs.STALE_RUNNING - timedelta(seconds=1)
    lost.created_at = now - job_runs.STALE_QUEUED - timedelta(seconds=1)
    db.session.commit()
    assert job_runs.abandon_stale(db.session, now) == 3
    db.session.expire_all()
    status = {r.id: (r.status, r.error) for r in db.session.scalars(select(JobRun))}
    assert status[stuck.id] == ("failed", "The worker stopped while running this job.")
    assert status[sending.id] == ("unknown", job_runs.MAYBE_SENT)
    assert status[lost.id] == ("failed", "The worker never started this job.")
    assert status[fresh.id] == ("running", None) and status[waiting.id] == ("queued", None)
    task = register_tasks(MemoryHuey(immediate=True), app)["abandon_stale_runs"]
    assert task.task_class().validate_datetime(now.replace(minute=40, tzinfo=None))


def test_runs_are_purged_a_retention_period_after_they_ended(app, queued):
    now = utcnow()
    old, boundary, recent, unfinished = (queued() for _ in range(4))
    for run, ended in ((old, 31), (boundary, 30), (recent, 1)):
        job_runs.perform(db.session, run.id, lambda s, r: None)
        db.session.get(JobRun, run.id).finished_at = now - timedelta(days=ended)
    db.session.commit()
    assert job_runs.purge(db.session, now - timedelta(microseconds=1), 30) == 1
    db.session.commit()
    left = set(db.session.scalars(select(JobRun.id)))
    assert left == {boundary.id, recent.id, unfinished.id}
    assert db.session.scalar(select(func.count()).select_from(JobRunAddress)) == 6
