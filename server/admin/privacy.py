"""Data-subject requests and the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.accounts import team
from server.accounts.users import AccountError
from server.admin import admin_required, bp, settings
from server.admin.jobs import queued
from server.common import audit, csv_safe, personal_data
from server.extensions import db
from server.privacy import data_requests


def _render(status: int = 200, **context):
    context.setdefault("email", "")
    return render_template(
        "admin/requests.html",
        history=data_requests.history(db.session, current_user.account_id),
        providers=personal_data.providers(),
        fields=personal_data.rectifiable_fields(),
        people={u.id: u.email for u in team.members(db.session, current_user.account_id)},
        **context,
    ), status


@bp.get("/privacy")
@admin_required
def requests_page():
    """The data-subject request form and the record of past requests."""
    return _render()


@bp.post("/privacy/search")
@admin_required
def requests_search():
    """Everything held about one address."""
    email = request.form.get("email", "")
    try:
        found, _ = data_requests.search(db.session, settings().secret_key, current_user, email)
    except AccountError as exc:
        db.session.rollback()
        return _render(400, error=exc, email=email)
    db.session.commit()
    return _render(email=email.strip().lower(), found=found)


@bp.post("/privacy/export")
@admin_required
def requests_export():
    """Queue the export of everything held about the address (the job page offers its files)."""
    email = request.form.get("email", "")
    try:
        run = data_requests.export(db.session, settings().secret_key, current_user, email)
    except AccountError as exc:
        db.session.rollback()
        return _render(400, error=exc, email=email)
    return queued(run)


@bp.post("/privacy/rectify")
@admin_required
def requests_rectify():
    """Correct the person's fields."""
    email = request.form.get("email", "")
    # Empty fields keep what is stored: only what the admin typed is corrected.
    fields = personal_data.rectifiable_fields()
    changes = {f: value for f in fields if (value := request.form.get(f, "").strip())}
    try:
        data_requests.rectify(db.session, settings().secret_key, current_user, email, changes)
    except AccountError as exc:
        db.session.rollback()
        return _render(400, error=exc, email=email)
    db.session.commit()
    flash("Corrected.")
    return redirect(url_for("admin.requests_page"))


@bp.post("/privacy/erase")
@admin_required
def requests_erase():
    """Erase the person: the address must be typed again to confirm."""
    email = request.form.get("email", "").strip().lower()
    if request.form.get("confirm", "").strip().lower() != email or not email:
        return _render(400, error="Type the address again to confirm the erasure.", email=email)
    try:
        result = data_requests.erase(db.session, settings().secret_key, current_user, email)
    except AccountError as exc:
        db.session.rollback()
        return _render(400, error=exc, email=email)
    db.session.commit()
    flash(f"Erased: {sum(result.values())} row(s) removed or anonymized.")
    return redirect(url_for("admin.requests_page"))


@bp.get("/audit")
@admin_required
def audit_page():
    """The audit log, searchable by text and action."""
    text, action = request.args.get("q", "").strip(), request.args.get("action", "")
    entries = audit.search(db.session, current_user.account_id, text, action)
    # Entries name people by id; show the addresses of the account's current members.
    people = {u.id: u.email for u in team.members(db.session, current_user.account_id)}
    return render_template(
        "admin/audit.html",
        entries=entries,
        q=text,
        action=action,
        actions=audit.ACTIONS,
        people=people,
    )


@bp.get("/audit.csv")
@admin_required
def audit_export():
    """The (filtered) audit log as CSV; the export itself is recorded."""
    text, action = request.args.get("q", "").strip(), request.args.get("action", "")
    entries = audit.search(db.session, current_user.account_id, text, action, limit=100_000)
    audit.record(
        db.session, current_user.account_id, "audit.export", actor=current_user,
        detail=f"{len(entries)} entries",
    )  # fmt: skip
    db.session.commit()
    return csv_safe.download(audit.to_csv(entries), "audit-log.csv")
