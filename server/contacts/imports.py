"""The CSV import as a job: the request checks the file and queues it, the worker imports it.

The file is read and checked in the request (quick: nothing is written), so a file that cannot
be imported at all is refused at once. The worker then saves the rows in chunks, each chunk
committed with its row reports and the run's counts, so the page that polls the run sees it
advance, and a worker that dies part-way leaves the rows it saved, reported.
"""

from __future__ import annotations

import time

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.common import job_runs
from server.contacts import csv_io
from server.models import Account, JobRun, User
from server.models.base import utcnow

KIND = "contacts_import"
# A chunk ends after this many rows or seconds, whichever comes first: progress shows this often,
# and other writers (on SQLite, every writer) wait for at most one chunk.
CHUNK = 200
CHUNK_SECONDS = 1.0


def plan(session: Session, user: User, data: bytes) -> JobRun:
    """Check the file and record its import as a queued run; csv_io.CsvError when it cannot be
    imported at all."""
    upload = csv_io.read(data)
    input = {"text": upload.text, "encoding": upload.encoding, "notices": upload.notices}
    run = job_runs.create(session, KIND, user, input)
    run.total = len(upload.records)
    return run


def run(session: Session, run: JobRun) -> None:
    """Import the run's file, chunk by chunk, reporting each row; stops if cancelled."""
    data = run.input
    upload = csv_io.parse(data["text"], data["encoding"], [])  # notices were made in `plan`
    account, actor = session.get(Account, run.account_id), session.get(User, run.user_id)
    rows: list[dict] = []
    started = 0.0
    for record in upload.records:
        if not rows:
            if not _start_chunk(session, run):
                return  # cancelled (a person in the file was erased): the rest is not imported
            started = time.monotonic()
        rows.append(csv_io.row_result(session, account, upload.header, *record).__dict__)
        if len(rows) >= CHUNK or time.monotonic() - started >= CHUNK_SECONDS:
            _end_chunk(session, run, rows)
            rows = []
    if rows:
        _end_chunk(session, run, rows)
    counts = {
        "created": sum(i["status"] == "created" for i in run.items),
        "updated": sum(i["status"] == "updated" for i in run.items),
        "failed": run.failed,
    }
    csv_io.audit_import(session, run.account_id, counts, actor)
    run.result = {"encoding": data["encoding"], "notices": data["notices"], **counts}
    session.commit()


def _start_chunk(session: Session, run: JobRun) -> bool:
    """Touch the run while it is still running; False once it was cancelled.

    Writing first opens the chunk's transaction as a writer: on SQLite, a transaction that read
    first could not write any more once another connection had written meanwhile."""
    touched = session.execute(
        update(JobRun)
        .where(JobRun.id == run.id, JobRun.status == "running")
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return touched.rowcount == 1


def _end_chunk(session: Session, run: JobRun, rows: list[dict]) -> None:
    """Add the chunk's row reports to the run and commit them with the rows."""
    job_runs.progress(session, run, rows, utcnow())
    session.commit()
