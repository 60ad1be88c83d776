"""The CSV import job: a file refused at once when it cannot be imported, rows saved in chunks
with their reports, and a failure part-way leaves the chunks saved before it, reported."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.common import job_runs
from server.contacts import csv_io, imports
from server.extensions import db
from server.models import AuditEntry, Contact, JobRun

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
    monkeypatch.setattr(imports, "CHUNK_SECONDS", 3600)  # chunks by size alone, however slow
    commits = []
    progress = job_runs.progress
    monkeypatch.setattr(
        job_runs, "progress", lambda s, run, rows, now, **kw: commits.append(len(rows))
        or progress(s, run, rows, now, **kw),
    )  # fmt: skip
    run = _run(rep[0])
    assert commits == [3, 3, 2] and run.status == "succeeded"
    assert (run.total, run.done, run.failed) == (8, 8, 1)
    assert run.result == {
        "encoding": "utf-8",
        "notices": ["Ignored columns: shoe_size."],
        "created": 7,
        "updated": 0,
        "failed": 1,
    }
    assert run.items[-1] == {
        "row": 9,
        "email": "nope",
        "status": "error",
        "errors": ["email: 'nope' is not an email address"],
    }
    [audit] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.import"))
    assert audit.detail == "7 created, 0 updated, 1 rejected" and audit.actor_id == rep[0].id


def test_a_failure_part_way_keeps_the_saved_chunks_reported(app, rep, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 3)
    monkeypatch.setattr(imports, "CHUNK_SECONDS", 3600)  # chunks by size alone, however slow
    save = csv_io.row_result

    def fails_on_the_fifth(session, account, header, line, cells):
        if line == 6:
            raise RuntimeError("the disk is full")
        return save(session, account, header, line, cells)

    monkeypatch.setattr(csv_io, "row_result", fails_on_the_fifth)
    run = _run(rep[0])
    assert run.status == "failed" and run.error == job_runs.SERVER_ERROR
    assert [i["row"] for i in run.items] == [2, 3, 4] and run.done == 3
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 3
    assert run.input is None  # the file goes once the run has ended
