"""Job runs: how a request hands slow work to the worker and how both report on it.

A view checks what it can at once, records a `JobRun` (kind, owner, input, the items known so
far), commits and enqueues its id (`submit`); the worker claims the run with a compare-and-set
(`perform`), so a run enqueued twice runs once, does the work through the domain's service, and
records progress, per-item results and the outcome. Whoever started a run, and the admins of its
account, read it back (`visible_run`, `view`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from server.common.addresses import AddressError, normalize_email
from server.extensions import db
from server.models import JobRun, JobRunAddress, User
from server.models.base import iso, utcnow

log = logging.getLogger(__name__)

# A running run untouched this long lost its worker (every progress step touches it); a queued
# one the worker has not taken in a day never will be (its queue entry was lost).
STALE_RUNNING = timedelta(minutes=30)
STALE_QUEUED = timedelta(days=1)
SERVER_ERROR = "Something went wrong on the server; the worker's log has the details."
MAYBE_SENT = "The job stopped while sending; what was being sent may have gone out."


class JobFailed(Exception):
    """The run ends for a reason its owner should read; `status` is failed or unknown."""

    def __init__(self, message: str, status: str = "failed"):
        super().__init__(message)
        self.status = status


class Queue(Protocol):
    """Where runs go to be done: the worker's queue (server/jobs)."""

    def enqueue(self, kind: str, run_id: str) -> None:
        """Hand the run to the task of its kind."""
        ...


def current_queue() -> Queue:
    """The running app's queue."""
    return current_app.extensions["leadcamp.jobs"]


def address_key(email: str) -> str:
    """How a run files an address: the canonical form contacts use, else lower-cased."""
    try:
        return normalize_email(email)
    except AddressError:
        return email.strip().lower()


def note_addresses(session: Session, run: JobRun, emails: Iterable[str | None]) -> None:
    """Record that the run holds data about these addresses (once each)."""
    known = {a.email for a in run.addresses}
    for key in dict.fromkeys(address_key(e) for e in emails if e):
        if key not in known:
            run.addresses.append(JobRunAddress(account_id=run.account_id, email=key[:320]))


def create(
    session: Session,
    kind: str,
    user: User,
    input: dict,
    items: list[dict] | None = None,
    addresses: Iterable[str] = (),
) -> JobRun:
    """A queued run of `kind` for `user`; the caller submits it."""
    items = items or []
    run = JobRun(
        account_id=user.account_id,
        user_id=user.id,
        kind=kind,
        input=input,
        items=items,
        total=len(items) or None,
    )
    session.add(run)
    note_addresses(session, run, [*addresses, *(i.get("email") for i in items)])
    session.flush()
    return run


def submit(session: Session, queue: Queue, run: JobRun) -> JobRun:
    """Commit the run, then enqueue it (committed first, so the worker finds it)."""
    session.commit()
    try:
        queue.enqueue(run.kind, run.id)
    except Exception:
        session.rollback()
        end(session, run.id, "failed", utcnow(), "The job queue could not be reached.", "queued")
        raise
    return run


def claim(session: Session, run_id: str, now: datetime) -> JobRun | None:
    """Take a queued run for this worker; None when it is not queued (another worker has it,
    it has ended or was cancelled, or it is gone)."""
    taken = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == "queued")
        .values(status="running", started_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return session.get(JobRun, run_id, populate_existing=True) if taken == 1 else None


def perform(
    session: Session,
    run_id: str,
    work: Callable[[Session, JobRun], None],
    clock: Callable[[], datetime] = utcnow,
) -> str | None:
    """Claim the run, do `work(session, run)` and record how it ended; the final status, or
    None when the run was not this worker's to do."""
    run = claim(session, run_id, clock())
    if run is None:
        log.info("job run %s not claimed: it is not queued", run_id)
        return None
    kind = run.kind
    try:
        work(session, run)
    except JobFailed as exc:
        session.rollback()
        return end(session, run_id, exc.status, clock(), str(exc))
    except Exception:
        session.rollback()
        log.exception("job run %s (%s) failed", run_id, kind)
        return end(session, run_id, "failed", clock(), SERVER_ERROR)
    return end(session, run_id, "succeeded", clock())


def end(
    session: Session,
    run_id: str,
    status: str,
    now: datetime,
    error: str | None = None,
    expected: str = "running",
) -> str | None:
    """Record the run's outcome (and drop its input) unless it left `expected` meanwhile (an
    erasure cancelled it); a failure while an item was "sending" ends unknown. Commits; the
    status it ends with, None when it is gone."""
    run = session.get(JobRun, run_id, populate_existing=True)
    if run is None:
        return None
    if run.status == expected:
        if status == "failed" and any(i.get("status") == "sending" for i in run.items):
            # It stopped while an item was being sent: that item may have gone out.
            status, error = "unknown", MAYBE_SENT
            run.items = [i | {"status": "unknown"} if i.get("status") == "sending" else i
                         for i in run.items]  # fmt: skip
        run.status, run.error, run.input = status, error, None
        run.finished_at = run.updated_at = now
    session.commit()
    return run.status


def progress(
    session: Session,
    run: JobRun,
    items: list[dict],
    now: datetime,
    replace: bool = False,
) -> None:
    """Add finished items to the run (or, with `replace`, set the list whole) and count them;
    the caller commits. An item with "status" "error" or "failed" counts as failed."""
    run.items = [*([] if replace else run.items), *items]  # a new list: JSON changes are seen
    run.done = sum(1 for i in run.items if i.get("status") not in ("queued", "sending"))
    run.failed = sum(1 for i in run.items if i.get("status") in ("error", "failed"))
    run.updated_at = now
    note_addresses(session, run, (i.get("email") for i in items))


def is_running(session: Session, run_id: str) -> bool:
    """Read from the database: is the run still running (not cancelled meanwhile)?"""
    status = session.scalar(select(JobRun.status).where(JobRun.id == run_id))
    return status == "running"


def visible_run(session: Session, user: User, run_id: str) -> JobRun | None:
    """The run if `user` may see it (whoever started it, or an admin of its account)."""
    run = session.get(JobRun, run_id)
    if run is None or run.account_id != user.account_id:
        return None
    return run if run.user_id == user.id or user.is_admin else None


def view(run: JobRun, status_url: str) -> dict:
    """A run as the API and the job page show it (never the export's files)."""
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "status_url": status_url,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "progress": {"total": run.total, "done": run.done, "failed": run.failed},
        "items": run.items,
        "result": run.result,
        "error": run.error,
    }


def abandon_stale(session: Session, now: datetime) -> int:
    """End the runs whose worker is gone: a running one untouched for STALE_RUNNING (unknown
    while an item was being sent, see `end`), a queued one never taken in STALE_QUEUED. How
    many; commits."""
    stale = session.scalars(
        select(JobRun).where(
            or_(
                and_(JobRun.status == "running", JobRun.updated_at < now - STALE_RUNNING),
                and_(JobRun.status == "queued", JobRun.created_at < now - STALE_QUEUED),
            )
        )
    ).all()
    for run in stale:
        if run.status == "queued":
            error = "The worker never started this job."
        else:
            error = "The worker stopped while running this job."
        log.warning("job run %s (%s) abandoned: %s", run.id, run.kind, error)
        end(session, run.id, "failed", now, error, expected=run.status)
    return len(stale)


def purge(session: Session, now: datetime, days: int) -> int:
    """Delete the runs that ended more than `days` ago, with what they hold; how many."""
    ended = select(JobRun.id).where(JobRun.finished_at < now - timedelta(days=days))
    session.execute(delete(JobRunAddress).where(JobRunAddress.run_id.in_(ended)))
    return session.execute(delete(JobRun).where(JobRun.id.in_(ended))).rowcount


def bind(app, work: Callable[[Session, JobRun], None]) -> Callable[[str], None]:
    """A task body for the worker: perform the run with `work` in an app context of `app`."""

    def run(run_id: str) -> None:
        with app.app_context():
            try:
                perform(db.session, run_id, work)
            finally:
                db.session.remove()

    return run
