"""Job pages: where a form that handed slow work to the worker sends the browser. The page polls
a small status URL (static/job.js) and, once the run has ended, shows its result: an import's
row report, an export's downloads, a refresh's outcome, each copy of a send."""

from __future__ import annotations

from flask import Response, abort, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required

from server.accounts.users import AccountError
from server.admin import admin_required, bp
from server.common import audit, errors, job_runs
from server.extensions import db
from server.models import JobRun
from server.privacy import data_requests

TITLES = {
    "contacts_import": "Contact import",
    "dsr_export": "Data export",
    "enrichment_refresh": "Enrichment refresh",
    "gmail_send": "Sending",
}

LABELS = {
    "queued": "Waiting for the worker",
    "running": "Running",
    "succeeded": "Done",
    "failed": "Failed",
    "unknown": "Outcome unknown",
}


def queued(run: JobRun):
    """Queue the run and send the browser to its page (303: the form's POST becomes a GET)."""
    job_runs.submit(db.session, job_runs.current_queue(), run)
    return redirect(url_for("admin.job_page", run_id=run.id), 303)


def _run(run_id: str) -> JobRun:
    run = job_runs.visible_run(db.session, current_user, run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/jobs/<run_id>")
@login_required
def job_page(run_id: str):
    """A run's progress and, once it has ended, its result."""
    run = _run(run_id)
    title = TITLES.get(run.kind, "Job")
    return render_template(
        "admin/job.html", run=run, title=title, labels=LABELS, formats=data_requests.FORMATS
    )


@bp.get("/jobs/<run_id>/status")
@login_required
def job_status(run_id: str):
    """What the job page polls: status and counts, nothing about the items."""
    run = _run(run_id)
    progress = {"total": run.total, "done": run.done, "failed": run.failed}
    response = jsonify(
        status=run.status, label=LABELS[run.status], finished=run.finished, progress=progress
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<run_id>/files/<fmt>")
@admin_required
def job_file(run_id: str, fmt: str):
    """An export's file, for the account's admins, for an hour after it was written."""
    run = _run(run_id)
    try:
        body, media_type = data_requests.export_file(run, fmt)
    except AccountError as exc:
        return errors.page(404, "Not found", str(exc))
    request_id = run.result["request_id"]
    audit.record(
        db.session, run.account_id, "dsr.download", actor=current_user,
        target=f"request #{request_id}", detail=fmt,
    )  # fmt: skip
    db.session.commit()
    name = f"data-request-{request_id}.{fmt}"
    return Response(
        body,
        mimetype=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
