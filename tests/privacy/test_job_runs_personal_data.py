"""Job runs hold personal data (row reports, recipients, exports): a data-subject request finds,
exports and erases it; termination removes it; runs are purged after JOB_RUNS_RETENTION_DAYS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import current_app
from huey import MemoryHuey
from sqlalchemy import select

from server.common import job_runs
from server.contacts import imports
from server.extensions import db
from server.jobs import register_tasks
from server.models import JobRun
from server.privacy import data_requests, termination
from server.privacy.jobs import purge_job_runs
from tests.support.admin import SUBJECT, tables_mentioning
from tests.support.jobs import run_jobs

# The subject's row is rejected (a phone that is not one), so the ended run still holds it.
CSV = f"email,name,phone\n{SUBJECT.upper()},Ana Ruiz,call me!\nbo@example.test,Bo,\n".encode()
REJECTED = "phone: only digits, spaces and + ( ) . - / # * , ; are allowed"


def _imported(admin) -> JobRun:
    """An import, run to completion through the app's queue."""
    run = job_runs.submit(
        db.session, job_runs.current_queue(), imports.plan(db.session, admin, CSV)
    )
    run_jobs(current_app)
    return db.session.get(JobRun, run.id)


def _export(found: dict) -> list[dict]:
    return found["job_runs"]["job_runs"]


def test_a_request_finds_and_exports_the_runs_that_hold_the_person(app, admin):
    run = _imported(admin)
    assert run.status == "succeeded"
    found, _ = data_requests.search(db.session, "k", admin, SUBJECT)
    [held] = _export(found)
    assert (held["id"], held["kind"], held["status"]) == (run.id, "contacts_import", "succeeded")
    assert held["items"] == [
        {
            "row": 2,
            "email": SUBJECT,
            "status": "error",
            "errors": [REJECTED],
            "cells": [SUBJECT.upper(), "Ana Ruiz", "call me!"],
        }
    ]
    export = data_requests.export(db.session, "k", admin, SUBJECT)
    db.session.commit()
    job_runs.perform(db.session, export.id, data_requests.write_export)
    document = json.loads(db.session.get(JobRun, export.id).files["json"])
    assert [r["id"] for r in _export(document["data"])] == [run.id, export.id]
    assert "files" not in json.dumps(_export(document["data"]))  # no export inside an export


def test_erasure_strips_the_person_from_runs_and_deletes_their_exports(app, admin):
    run = _imported(admin)
    export = data_requests.export(db.session, "k", admin, SUBJECT)
    db.session.commit()
    job_runs.perform(db.session, export.id, data_requests.write_export)
    others = data_requests.export(db.session, "k", admin, "bo@example.test")
    db.session.commit()
    assert "job_runs.items" in tables_mentioning(SUBJECT)

    result = data_requests.erase(db.session, "k", admin, SUBJECT)
    db.session.commit()
    assert result["job_runs"] == 2
    assert tables_mentioning(SUBJECT) == [] and tables_mentioning("ana.ruiz") == []
    assert db.session.get(JobRun, export.id) is None
    kept = db.session.get(JobRun, run.id)
    assert kept.items == [{"row": 2, "status": "error", "email": None, "erased": True}]
    assert kept.result["created"] == 1 and kept.result["failed"] == 1
    assert db.session.get(JobRun, others.id).status == "queued"  # someone else's export
    assert _export(data_requests.search(db.session, "k", admin, SUBJECT)[0]) == []


def test_erasure_cancels_a_queued_import_that_would_bring_the_person_back(app, admin):
    queued = job_runs.submit(
        db.session, job_runs.current_queue(), imports.plan(db.session, admin, CSV)
    )
    found, _ = data_requests.search(db.session, "k", admin, SUBJECT)
    assert [r["id"] for r in _export(found)] == [queued.id]  # found in the file, not yet read
    data_requests.erase(db.session, "k", admin, SUBJECT)
    db.session.commit()
    run_jobs(app)  # the worker gets to it afterwards
    run = db.session.get(JobRun, queued.id)
    assert (run.status, run.error, run.input) == ("failed", "Cancelled: a person it concerned "
                                                  "was erased.", None)  # fmt: skip
    assert run.items == [] and tables_mentioning(SUBJECT) == []


def test_a_failed_send_names_no_erased_recipient(app, admin):
    run = job_runs.create(
        db.session, "gmail_send", admin, {"recipients": []},
        [{"email": SUBJECT, "id": "m" * 22, "status": "failed", "error": "Invalid To header"}],
    )  # fmt: skip
    run.status, run.error = "failed", f"Gmail did not send the copy to {SUBJECT.upper()}: no."
    db.session.commit()
    data_requests.erase(db.session, "k", admin, SUBJECT)
    db.session.commit()
    db.session.expire_all()
    run = db.session.get(JobRun, run.id)
    assert run.error == "Gmail did not send the copy to [erased]: no."
    assert run.items == [{"id": "m" * 22, "status": "failed", "email": None, "erased": True}]


def test_termination_removes_every_run(app, admin):
    _imported(admin)
    termination.terminate(db.session, admin.account, "Acme", "anonymize")
    db.session.commit()
    assert db.session.scalars(select(JobRun)).all() == []
    assert tables_mentioning("bo@example.test") == []


def test_the_nightly_purge_keeps_runs_for_the_configured_days(app, admin, settings):
    run = _imported(admin)
    ended = run.finished_at
    app.config["LEADCAMP"] = settings.replace(job_runs_retention_days=7)
    assert purge_job_runs(app, clock=lambda: ended + timedelta(days=7))() == 0
    assert purge_job_runs(app, clock=lambda: ended + timedelta(days=7, seconds=1))() == 1
    assert db.session.scalars(select(JobRun)).all() == []
    task = register_tasks(MemoryHuey(immediate=True), app)["purge_job_runs"]
    due = task.task_class().validate_datetime
    assert due(datetime(2026, 12, 6, 3, 27)) and not due(datetime(2026, 12, 6, 4, 27))
    assert datetime.now(UTC) > ended  # the task itself runs on the real clock
