"""The CSV import job: a file refused at once when it cannot be imported, rows saved in chunks
with their reports, and a failure part-way leaves the chunks saved before it, reported."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.common import job_runs
from server.contacts import csv_io, import_rows, imports
from server.extensions import db
from server.models import AuditEntry, Contact, JobRun
from tests.support.jobs import run_jobs

ROWS = "".join(f"lead{n}@acme.com,Lead {n},4{n}\n" for n in range(7))
CSV = f"email,name,shoe size\n{ROWS}nope,Bad,40\n".encode()


def _run(user, data=CSV) -> JobRun:
    run = imports.plan(db.session, user, data)
    db.session.commit()
    job_runs.perform(db.session, run.id, imports.run)
    db.session.expire_all()
    return db.session.get(JobRun, run.id)


def test_a_file_that_cannot_be_imported_is_refused_before_anything_is_queued(app, rep):
    for data, reason in ((b"", "empty"), (b"name\nAna\n", "no 'email' column")):
        with pytest.raises(csv_io.CsvError, match=reason):
            imports.plan(db.session, rep[0], data)
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_rows_are_saved_and_reported_chunk_by_chunk(app, rep, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 3)
    commits = []
    save = import_rows.save
    monkeypatch.setattr(
        import_rows, "save", lambda s, account, header, records: commits.append(len(records))
        or save(s, account, header, records),
    )  # fmt: skip
    run = _run(rep[0])
    assert commits == [3, 3, 2] and run.status == "succeeded"
    assert (run.total, run.done, run.failed) == (8, 8, 1)
    assert run.result == {
        "encoding": "utf-8",
        "delimiter": "comma",
        "notices": ["Ignored columns: shoe_size."],
        "columns": ["email", "name", "shoe size"],
        "created": 7,
        "updated": 0,
        "failed": 1,
    }
    assert run.items == [  # the rejected rows alone, with their cells
        {
            "row": 9,
            "email": "nope",
            "status": "error",
            "errors": ["email: 'nope' is not an email address"],
            "cells": ["nope", "Bad", "40"],
        }
    ]
    [audit] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.import"))
    assert audit.detail == "7 created, 0 updated, 1 rejected" and audit.actor_id == rep[0].id


def test_a_failure_part_way_keeps_the_saved_chunks_reported(app, rep, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 3)
    save = import_rows.save

    def fails_on_the_third_chunk(session, account, header, records):
        if records[0][0] == 8:
            raise RuntimeError("the disk is full")
        return save(session, account, header, records)

    monkeypatch.setattr(import_rows, "save", fails_on_the_third_chunk)
    run = _run(rep[0])
    assert run.status == "failed" and run.error == job_runs.SERVER_ERROR
    assert run.done == 6 and run.items == [] and run.result["created"] == 6
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 6
    assert run.input is None  # the file goes once the run has ended


def test_more_rows_than_the_old_ceiling_are_imported_through_the_worker(app, rep):
    # 10,000 rows was once the most a file could hold; a job takes any number, a chunk at a time.
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the ceiling was the same on every backend; SQLite's run takes a third as long")
    rows = "".join(f"lead{n}@firm{n % 50}.example,Lead {n}\n" for n in range(10_500))
    run = job_runs.submit(
        db.session,
        job_runs.current_queue(),
        imports.plan(db.session, rep[0], f"email,name\n{rows}bad,row\n".encode()),
    )
    assert run_jobs(app) == 1
    run = db.session.get(JobRun, run.id)
    assert (run.status, run.total, run.done, run.failed) == ("succeeded", 10_501, 10_501, 1)
    assert (run.result["created"], run.result["updated"]) == (10_500, 0)
    assert [i["row"] for i in run.items] == [10_502]
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 10_500
