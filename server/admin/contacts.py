"""Contacts pages: list and search, detail and edit, CSV import and export.

Every member of the account may use them (as with the API): an admin sees the whole account's
engagement, a rep only their own messages'. Only admins export (a bulk copy of personal data).
Views call the contacts services; an import and an enrichment refresh are jobs, followed on the
job page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from server.admin import admin_required, bp
from server.admin.jobs import queued
from server.common import csv_safe
from server.common.inputs import whole_number
from server.contacts import csv_io as contacts_csv
from server.contacts import enrichment, hubspot, imports
from server.contacts import listing as contact_views
from server.contacts import service as contacts
from server.contacts.enrichment import refresh
from server.extensions import db
from server.models.base import utcnow

PAGE = 50
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


@bp.get("/contacts")
@login_required
def contacts_page():
    """The account's contacts, searched by address, name, title or company."""
    q = request.args.get("q", "")[:200]
    # A hand-edited or stale offset shows the first page rather than an error.
    offset = whole_number(request.args.get("offset"), 0, MAX_OFFSET) or 0
    policy = enrichment.current_policy()
    listing = contact_views.listing(db.session, current_user, policy, utcnow(), q, PAGE, offset)
    return render_template("admin/contacts.html", listing=listing, q=q, offset=offset, page=PAGE)


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


@bp.post("/contacts/import")
@login_required
def contacts_import():
    """Check an uploaded CSV file and queue its import; the job page reports it row by row."""
    upload = request.files.get("file")
    limit = contacts_csv.MAX_BYTES
    data = upload.read(limit + 1) if upload else b""
    error = ""
    if not data:
        error = "Choose a CSV file to import."
    elif len(data) > limit:
        error = f"The file is larger than {limit // (1024 * 1024)} MB."
    else:
        try:
            return queued(imports.plan(db.session, current_user, data))
        except contacts_csv.CsvError as exc:
            db.session.rollback()
            error = str(exc)
    policy = enrichment.current_policy()
    listing = contact_views.listing(db.session, current_user, policy, utcnow(), "", PAGE, 0)
    return render_template(
        "admin/contacts.html", listing=listing, q="", offset=0, page=PAGE, error=error
    ), 400
