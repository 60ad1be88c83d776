"""The CSV import as a job: the request checks the file and queues it, the worker imports it.

The file is decoded, its header checked and its rows counted in the request (quick: nothing is
parsed into rows, nothing written), so a file that cannot be imported at all is refused at once.
The worker then saves the rows in chunks (import_rows.py saves a chunk with a few queries), one
transaction per chunk holding its rows, its rejected rows' reports and the run's counts, so the
page that polls the run sees it advance, and a worker that dies part-way leaves the rows it
saved, reported.

The run's items are the rejected rows only, each with its original cells (the report offers them
as a CSV file to correct and import again); saved rows are counted, not listed: a 50,000-row
file would otherwise carry 50,000 items on every read of the run.
"""

from __future__ import annotations

import io

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.common import csv_safe, job_runs
from server.contacts import csv_io, import_rows
from server.models import Account, JobRun, User
from server.models.base import utcnow

KIND = "contacts_import"
# Rows per chunk: progress shows this often, and other writers (on SQLite, every writer) wait
# for at most one chunk (about a tenth of a second on two shared cores).
CHUNK = 500


def plan(session: Session, user: User, data: bytes) -> JobRun:
    """Check the file and record its import as a queued run; csv_io.CsvError when it cannot be
    imported at all."""
    upload = csv_io.read(data)
    input = {"text": upload.text, "encoding": upload.encoding, "notices": upload.notices}
    run = job_runs.create(session, KIND, user, input)
    run.total = upload.count()
    return run


def run(session: Session, run: JobRun) -> None:
    """Import the run's file, chunk by chunk, reporting rejected rows; stops if cancelled."""
    data = run.input
    upload = csv_io.parse(data["text"], data["encoding"], [])  # notices were made in `plan`
    account, actor = session.get(Account, run.account_id), session.get(User, run.user_id)
    run.result = {
        "encoding": data["encoding"],
        "delimiter": csv_io.DELIMITERS[upload.delimiter],
        "notices": data["notices"],
        "columns": upload.written,  # the header row as written: the rejected rows' file has it
        "created": 0,
        "updated": 0,
        "failed": 0,
    }
    for records in upload.chunks(CHUNK):
        if not _start_chunk(session, run):
            return  # cancelled (a person in the file was erased): the rest is not imported
        results = import_rows.save(session, account, upload.header, records)
        _end_chunk(session, run, results, dict(records))
    counts = {k: run.result[k] for k in ("created", "updated", "failed")}
    csv_io.audit_import(session, run.account_id, counts, actor)
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


def _end_chunk(session: Session, run: JobRun, results: list, cells: dict) -> None:
    """Count the chunk's rows, add its rejected rows (with their cells) and commit them all."""
    rejected = [
        r.__dict__ | {"cells": cells[r.row] if isinstance(cells[r.row], list) else []}
        for r in results
        if r.status == "error"
    ]
    counts = dict(run.result)
    for r in results:
        counts["failed" if r.status == "error" else r.status] += 1
    run.result = counts  # a new dict: JSON changes are seen
    if rejected:
        run.items = [*run.items, *rejected]
        job_runs.note_addresses(session, run, (i["email"] for i in rejected))
    run.done += len(results)
    run.failed += len(rejected)
    run.updated_at = utcnow()
    session.commit()


def rejected_csv(run: JobRun) -> str:
    """The run's rejected rows as CSV: line number, reason, then the row's cells under the file's
    own header, formula-guarded (UTF-8 with a BOM, so spreadsheets read accents)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "reason", *run.result.get("columns", [])])
    for item in run.items:
        if item.get("status") == "error":
            reason = "; ".join(item.get("errors") or ["(erased)"])
            writer.writerow([item.get("row"), reason, *item.get("cells", [])])
    return out.getvalue()
