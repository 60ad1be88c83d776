"""Sub-processors, the breach register and account termination."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from server.admin import admin_required, bp, mailer, settings
from server.extensions import db
from server.models import Account
from server.privacy import breaches, subprocessors, termination
from server.webhooks import endpoints as webhooks


def _listing(account_id: int) -> dict:
    """What both list pages show: entries, changes, notice period, transfer notes, the time."""
    rows = subprocessors.listing(db.session, account_id, subprocessors.defaults(settings()))
    db.session.commit()  # the first read seeds the list
    return {
        "rows": rows,
        "changes": subprocessors.changes(db.session, account_id),
        "days": settings().subprocessor_notice_days,
        "notes": {row.id: subprocessors.transfer_note(row) for row in rows},
        "now": datetime.now(UTC),
        "services": subprocessors.SERVICES,
        "receivers": webhooks.receivers(db.session, account_id),
    }


def _render_subprocessors(
    error: Exception | str = "", status: int = 200, form=None, failed: str = ""
):
    """The list page; after a refused change, `failed` names the form (its field prefix) that
    shows `form`, what was typed, with the error beside its field."""
    account_id = current_user.account_id
    token = subprocessors.public_token(settings().secret_key, account_id)
    return render_template(
        "admin/subprocessors.html",
        error=error,
        form=form or {},
        failed=failed,
        public_link=settings().public_url + url_for("admin.published_subprocessors", token=token),
        **_listing(account_id),
    ), status


@bp.get("/published/subprocessors/<token>")
def published_subprocessors(token: str):
    """The account's list as its customers read it: public, read-only, behind a signed link."""
    account_id = subprocessors.account_for_token(settings().secret_key, token)
    account = db.session.get(Account, account_id) if account_id else None
    if account is None or account.terminated_at is not None:
        abort(404)
    return render_template("admin/published.html", account=account, **_listing(account.id))


@bp.get("/subprocessors")
@admin_required
def subprocessors_page():
    """The published list and its announced changes."""
    return _render_subprocessors()


def _change(action, *args, done: str, failed: str = ""):
    notice = settings().subprocessor_notice_days
    try:
        _, sent = action(db.session, mailer(), current_user, *args, notice_days=notice)
    except subprocessors.SubProcessorError as exc:
        db.session.rollback()
        return _render_subprocessors(exc, 400, request.form, failed)
    db.session.commit()
    if sent is None:
        flash("Nothing changed.")
    elif sent:
        flash(f"{done}; the admins were notified by mail.")
    else:
        flash(f"{done} and listed with its notice period; no mail went out (mail is not "
              "configured or the mail server refused it): tell the admins yourself.")  # fmt: skip
    return redirect(url_for("admin.subprocessors_page"))


@bp.post("/subprocessors")
@admin_required
def subprocessors_add():
    """Add a sub-processor, in use after the notice period (at once if urgent); the admins are
    told."""
    return _change(subprocessors.add, request.form, done="Added", failed="sp-new")


@bp.post("/subprocessors/<int:entry_id>")
@admin_required
def subprocessors_edit(entry_id: int):
    """Change a sub-processor."""
    return _change(
        subprocessors.edit, entry_id, request.form, done="Saved", failed=f"sp-{entry_id}"
    )


@bp.post("/subprocessors/<int:entry_id>/remove")
@admin_required
def subprocessors_remove(entry_id: int):
    """Remove a sub-processor."""
    return _change(subprocessors.remove, entry_id, done="Removed")


@bp.get("/breaches")
@admin_required
def breaches_page():
    """The breach register."""
    rows = breaches.listing(db.session, current_user.account_id)
    return render_template("admin/breaches.html", rows=rows, error="", form={})


@bp.post("/breaches")
@admin_required
def breaches_record():
    """Record an incident and notify the admins."""
    notice_email = settings().privacy_notice_email
    try:
        breach, sent = breaches.record(
            db.session, mailer(), current_user, request.form, notice_email=notice_email
        )
    except breaches.BreachError as exc:
        db.session.rollback()
        rows = breaches.listing(db.session, current_user.account_id)
        page = render_template("admin/breaches.html", rows=rows, error=exc, form=request.form)
        return page, 400
    db.session.commit()
    flash("Recorded; the admins were notified by mail." if sent else "Recorded.")
    return redirect(url_for("admin.breach_page", breach_id=breach.id))


@bp.get("/breaches/<int:breach_id>")
@admin_required
def breach_page(breach_id: int, error: Exception | str = "", status: int = 200, form=None):
    """One breach, its 72-hour notification clock and its remedial actions."""
    breach = breaches.get(db.session, current_user.account_id, breach_id)
    page = render_template(
        "admin/breach.html",
        breach=breach,
        error=error,
        form=form or {},
        deadline=breaches.deadline(breach),
        overdue=breaches.overdue(breach),
    )
    return page, status


def _breach_step(breach_id: int, action, *args, done: str):
    try:
        action(db.session, current_user, breach_id, *args)
    except breaches.BreachError as exc:
        db.session.rollback()
        return breach_page(breach_id, exc, 400, request.form)
    db.session.commit()
    flash(done)
    return redirect(url_for("admin.breach_page", breach_id=breach_id))


@bp.post("/breaches/<int:breach_id>/actions")
@admin_required
def breach_add_action(breach_id: int):
    """Add a remedial action."""
    text = request.form.get("description", "")
    return _breach_step(breach_id, breaches.add_action, text, done="Action added.")


@bp.post("/breaches/<int:breach_id>/actions/<int:action_id>/done")
@admin_required
def breach_action_done(breach_id: int, action_id: int):
    """Mark a remedial action done."""
    return _breach_step(breach_id, breaches.complete_action, action_id, done="Action done.")


@bp.post("/breaches/<int:breach_id>/notified")
@admin_required
def breach_notified(breach_id: int):
    """Record when the authority and the people concerned were told."""
    return _breach_step(breach_id, breaches.notified, request.form, done="Notifications saved.")


@bp.post("/breaches/<int:breach_id>/close")
@admin_required
def breach_close(breach_id: int):
    """Close the breach."""
    return _breach_step(breach_id, breaches.close, done="Breach closed.")


@bp.get("/terminate")
@admin_required
def terminate_page():
    """What termination does, and the typed confirmation."""
    return render_template("admin/terminate.html", account=current_user.account, error="", form={})


@bp.post("/terminate")
@admin_required
def terminate_post():
    """Terminate the account: its personal data deleted or anonymized."""
    account = current_user.account
    try:
        termination.terminate(
            db.session,
            account,
            request.form.get("confirmation", ""),
            request.form.get("mode", ""),
            current_user,
        )
    except termination.TerminationError as exc:
        db.session.rollback()
        page = render_template(
            "admin/terminate.html", account=account, error=exc, form=request.form
        )
        return page, 400
    db.session.commit()
    logout_user()
    flash("The account was terminated. Its personal data is gone.")
    return redirect(url_for("auth.login"))
