"""Job runs: the 202 answer of a view that handed its work to the worker, and the status URL."""

from __future__ import annotations

from flask import g, url_for

from server.api import bp, schemas
from server.api.errors import ApiError
from server.api.openapi import operation
from server.common import job_runs
from server.extensions import db
from server.models import JobRun


def status_url(run: JobRun) -> str:
    """Where the API reads a run back."""
    return url_for("api.get_job", run_id=run.id)


def accepted(run: JobRun) -> tuple[dict, dict]:
    """Queue the run and answer 202's body and its Location header."""
    job_runs.submit(db.session, job_runs.current_queue(), run)
    url = status_url(run)
    return {"id": run.id, "status": run.status, "status_url": url}, {"Location": url}


@operation(
    bp,
    "/jobs/<run_id>",
    "GET",
    "A job run: status, progress, per-item results, and why it failed",
    schemas.JobOut,
)
def get_job(run_id: str):
    """A job run started by the caller (or, for an admin, by anyone in the account)."""
    run = job_runs.visible_run(db.session, g.user, run_id)
    if run is None:
        raise ApiError(404, "not_found", "No such job in your account.")
    return job_runs.view(run, status_url(run))
