"""Contacts pages: list and search, detail and edit, CSV import and export.

Every member of the account may use them (as with the API): an admin sees the whole account's
engagement, a rep only their own messages'. Only admins export (a bulk copy of personal data).
Views call the contacts services; an import and an enrichment refresh are jobs, followed on the
job page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from server.admin import admin_required, bp
from server.admin.jobs import queued
from server.common import csv_safe, errors, job_runs
from server.common.inputs import whole_number
from server.contacts import csv_io as contacts_csv
from server.contacts import enrichment, hubspot, imports, ranking
from server.contacts import listing as contact_views
from server.contacts import service as contacts
from server.contacts.enrichment import refresh
from server.extensions import db
from server.models.base import utcnow

PAGE = 50
# A multipart form wraps the file in a few hundred bytes of boundaries and the CSRF token.
FORM_OVERHEAD = 64 * 1024
MAX_OFFSET = 10_000_000  # as the API's
OFF_REASONS = {
    "no_api_key": "no enrichment API key is configured",
    "tracking_off": "the account's tracking and enrichment switch is off",
    "do_not_enrich": "the contact is marked do not enrich",
}


def _contact(email: str):
    contact = contacts.find_contact(db.session, current_user.account_id, email)
    if contact is None:
        abort(404)
    return contact


ACTIVE_DAYS = {1: "Today (24 hours)", 7: "Last 7 days", 30: "Last 30 days"}


def _order() -> ranking.Order:
    """The sort and filters of the query string; a hand-edited value falls back to none."""
    args = request.args
    sort = args.get("sort", "")
    days = whole_number(args.get("active"), 1, 30)
    return ranking.Order(
        sort=sort if sort in ranking.SORTS else "email",
        company=args.get("company", "")[:200],
        min_score=whole_number(args.get("min_score"), 0, 100) or 0,
        active_days=days if days in ACTIVE_DAYS else 0,
    )


@bp.get("/contacts")
@login_required
def contacts_page():
    """The account's contacts, searched by address, name, title or company; sorted and filtered
    by engagement score, last activity and company (hot leads)."""
    q = request.args.get("q", "")[:200]
    # A hand-edited or stale offset shows the first page rather than an error.
    offset = whole_number(request.args.get("offset"), 0, MAX_OFFSET) or 0
    order = _order()
    policy = enrichment.current_policy()
    listing = contact_views.listing(
        db.session, current_user, policy, utcnow(), q, PAGE, offset, order
    )
    return render_template(
        "admin/contacts.html",
        listing=listing, q=q, offset=offset, page=PAGE, max_mb=contacts_csv.MAX_MB,
        **_choices(order),
    )  # fmt: skip


def _choices(order: ranking.Order) -> dict:
    """The template's sort and filter controls, and the query that keeps them across pages."""
    keep = {"sort": order.sort, "company": order.company}
    keep |= {"min_score": order.min_score or None, "active": order.active_days or None}
    return {"order": order, "sorts": ranking.SORTS, "active_days": ACTIVE_DAYS, "keep": keep}


@bp.get("/contacts/view/<path:email>")
@login_required
def contact_page(email: str):
    """One contact: profile, enrichment, engagement, messages; the edit form."""
    return _render_contact(_contact(email))


def _render_contact(contact, error: Exception | str = "", status: int = 200, form=None):
    policy = enrichment.current_policy()
    detail = contact_views.detail(db.session, current_user, contact, policy, utcnow())
    db.session.commit()  # the detail may have asked for a first enrichment
    page = render_template(
        "admin/contact.html", c=detail, off_reasons=OFF_REASONS, error=error, form=form or {}
    )
    return page, status


@bp.post("/contacts/view/<path:email>")
@login_required
def contact_save(email: str):
    """Save edits to a contact."""
    contact = _contact(email)
    form = request.form
    changes = {f: form.get(f, "").strip() for f in ("name", "title", "phone", "notes")}
    changes["company_name"] = form.get("company_name", "").strip()
    changes["do_not_enrich"] = form.get("do_not_enrich") == "on"
    try:
        contacts.edit_contact(db.session, contact, changes, current_user)
    except contacts.ContactError as exc:
        db.session.rollback()
        return _render_contact(_contact(email), exc, 400, request.form)
    db.session.commit()
    flash("Contact saved.")
    return redirect(url_for("admin.contact_page", email=contact.email))


@bp.post("/contacts/view/<path:email>/enrich")
@login_required
def contact_enrich(email: str):
    """Ask the provider again for this contact, bypassing the cache (a job does the call)."""
    contact = _contact(email)
    reason = enrichment.off_reason(enrichment.current_policy(), current_user.account, contact)
    if reason is not None:
        flash(f"Enrichment is off for this contact ({OFF_REASONS[reason]}).")
        return redirect(url_for("admin.contact_page", email=contact.email))
    return queued(refresh.plan(db.session, current_user, contact))


@bp.get("/contacts.csv")
@admin_required
def contacts_export():
    """Every contact of the account as CSV (recorded in the audit log)."""
    body = contacts_csv.export_csv(db.session, current_user.account_id, current_user)
    db.session.commit()
    return csv_safe.download(body, "contacts.csv")


@bp.get("/contacts.hubspot.csv")
@admin_required
def contacts_export_hubspot():
    """Every contact with its engagement, in HubSpot's import columns (audited)."""
    body = hubspot.export(db.session, current_user.account_id, utcnow(), current_user)
    db.session.commit()
    return csv_safe.download(body, "contacts-hubspot.csv")


class ImportTooLarge(RequestEntityTooLarge):
    """An import's file over csv_io.MAX_BYTES: answered with our page (other 413s are not)."""


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values):
    """Let the import form carry a file of up to csv_io.MAX_BYTES (the app allows 1 MiB).

    Set here because url value preprocessors run before every before-request function, and the
    CSRF check, one of those, reads the form: a limit set in the view would come too late."""
    if endpoint == "admin.contacts_import":
        limit = contacts_csv.MAX_BYTES + FORM_OVERHEAD
        if request.content_length is not None and request.content_length > limit:
            raise ImportTooLarge()
        request.max_content_length = limit


@bp.errorhandler(ImportTooLarge)
def import_too_large(_exc):
    """An import over the limit: our page saying what the limit is, not Werkzeug's."""
    return _too_large_page()


def _too_large_page():
    limit = f"{contacts_csv.MAX_MB} MB"
    return errors.page(
        413,
        "The file is too large",
        f"One import takes a CSV file of up to {limit}. Split the file and import "
        "each part: rows already imported are updated, not duplicated.",
        back=(url_for("admin.contacts_page"), "Back to the contacts"),
    )


@bp.post("/contacts/import")
@login_required
def contacts_import():
    """Check an uploaded CSV file and queue its import; the job page follows it."""
    upload = request.files.get("file")
    limit = contacts_csv.MAX_BYTES
    data = upload.read(limit + 1) if upload else b""
    if len(data) > limit:
        return _too_large_page()
    error = ""
    if not data:
        error = "Choose a CSV file to import."
    else:
        try:
            return queued(imports.plan(db.session, current_user, data))
        except contacts_csv.CsvError as exc:
            db.session.rollback()
            error = str(exc)
    policy = enrichment.current_policy()
    listing = contact_views.listing(db.session, current_user, policy, utcnow(), "", PAGE, 0)
    choices = _choices(ranking.Order())
    return render_template(
        "admin/contacts.html",
        listing=listing, q="", offset=0, page=PAGE, max_mb=contacts_csv.MAX_MB, error=error,
        **choices,
    ), 400  # fmt: skip


@bp.get("/contacts/import/<run_id>/rejected.csv")
@login_required
def contacts_import_rejected(run_id: str):
    """An import's rejected rows as CSV: line, reason and the row's cells, to correct and import
    again (for whoever started the import and the account's admins)."""
    run = job_runs.visible_run(db.session, current_user, run_id)
    if run is None or run.kind != imports.KIND or run.result is None:
        abort(404)
    return csv_safe.download(imports.rejected_csv(run), f"rejected-rows-{run.id[:8]}.csv")
