"""Contacts API: list, detail, edit, enrichment refresh and CSV import (both jobs), export."""

from __future__ import annotations

from flask import g, request
from werkzeug.exceptions import RequestEntityTooLarge

from server.api import bp
from server.api import contact_schemas as schemas
from server.api.args import int_arg
from server.api.errors import ApiError
from server.api.jobs import accepted
from server.api.openapi import operation
from server.api.schemas import JobAcceptedOut
from server.common import csv_safe
from server.contacts import csv_io as contacts_csv
from server.contacts import enrichment, hubspot, imports
from server.contacts import listing as contact_views
from server.contacts import service as contacts
from server.contacts.enrichment import refresh
from server.extensions import db
from server.models.base import utcnow


def _contact(email: str):
    contact = contacts.find_contact(db.session, g.user.account_id, email)
    if contact is None:
        raise ApiError(404, "not_found", "No such contact in your account.")
    return contact


def _detail(contact) -> dict:
    out = contact_views.detail(db.session, g.user, contact, enrichment.current_policy(), utcnow())
    db.session.commit()  # the detail may have asked for a first enrichment
    return out


@operation(
    bp,
    "/contacts",
    "GET",
    "The account's contacts, searched by ?q=",
    schemas.ContactListOut,
    query=(
        ("q", "address, name, title or company contains this", {"type": "string"}),
        ("limit", "page size, 1 to 200 (default 50)", {"type": "integer"}),
        ("offset", "contacts to skip", {"type": "integer"}),
    ),
)
def list_contacts():
    """A page of contacts matching ?q= (address, name, title, company)."""
    limit = int_arg("limit", 50, 1, 200)
    offset = int_arg("offset", 0, 0, 10_000_000)
    q = request.args.get("q", "")[:200]
    policy = enrichment.current_policy()
    return contact_views.listing(db.session, g.user, policy, utcnow(), q, limit, offset)


@operation(
    bp,
    "/contacts/<email>",
    "GET",
    "A contact: profile, enrichment, engagement, messages",
    schemas.ContactDetailOut,
)
def get_contact(email: str):
    """One contact in full."""
    return _detail(_contact(email))


@operation(
    bp,
    "/contacts/<email>",
    "PATCH",
    "Edit a contact",
    schemas.ContactDetailOut,
    body=schemas.ContactPatchIn,
)
def patch_contact(email: str, body: schemas.ContactPatchIn):
    """Edit name, title, phone, notes, company or the do-not-enrich flag."""
    contact = _contact(email)
    contacts.edit_contact(db.session, contact, body.model_dump(exclude_unset=True), g.user)
    db.session.commit()
    return _detail(contact)


@operation(
    bp,
    "/contacts/<email>/enrich",
    "POST",
    "Refresh a contact's enrichment now (a job: poll its status_url)",
    JobAcceptedOut,
    status=202,
)
def enrich_contact(email: str):
    """Ask the provider again, bypassing the cache; the lookup runs in the job."""
    contact = _contact(email)
    reason = enrichment.off_reason(enrichment.current_policy(), g.user.account, contact)
    if reason is not None:
        raise ApiError(409, "enrichment_off", f"Enrichment is off for this contact ({reason}).")
    return accepted(refresh.plan(db.session, g.user, contact))


@operation(
    bp,
    "/contacts/import",
    "POST",
    "Import contacts from a CSV body (text/csv, up to 50 MB); a job whose result counts the rows "
    "and whose items are the rejected rows",
    JobAcceptedOut,
    status=202,
    consumes="text/csv",
)
def import_contacts():
    """Check the CSV and queue its import; the job reports counts and the rejected rows."""
    limit = contacts_csv.MAX_BYTES
    too_large = ApiError(
        413, "payload_too_large", f"One import takes a CSV file of up to {contacts_csv.MAX_MB} MB."
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    if request.mimetype not in ("text/csv", "application/csv", "text/plain"):
        raise ApiError(
            400, "invalid_request", "Send the file as the body with Content-Type text/csv."
        )
    try:
        data = _body(limit)
    except RequestEntityTooLarge as exc:
        raise too_large from exc
    try:
        run = imports.plan(db.session, g.user, data)
    except contacts_csv.CsvError as exc:
        db.session.rollback()
        raise ApiError(400, "invalid_csv", str(exc)) from exc
    return accepted(run)


def _body(limit: int) -> bytes:
    """The request body, RequestEntityTooLarge past `limit` bytes, with or without a length.

    Read until the stream ends: a body sent without a length (chunked) is cut at the limit, and
    only a further read raises; one more byte allowed tells a body of exactly `limit` apart."""
    request.max_content_length = limit + 1
    chunks = []
    while chunk := request.stream.read(64 * 1024):
        chunks.append(chunk)
    return b"".join(chunks)


@operation(
    bp,
    "/contacts/export",
    "GET",
    "Every contact of the account as CSV (admins only)",
    None,
    produces="text/csv",
)
def export_contacts():
    """Every contact of the account as CSV (admins only: it is a bulk export of personal data)."""
    user = _exporting_admin()
    body = contacts_csv.export_csv(db.session, user.account_id, user)
    db.session.commit()  # the audit entry of the export
    return csv_safe.download(body, "contacts.csv")


@operation(
    bp,
    "/contacts/export/hubspot",
    "GET",
    "Every contact with its engagement, in HubSpot's import columns, as CSV (admins only)",
    None,
    produces="text/csv",
)
def export_contacts_hubspot():
    """The HubSpot-compatible export (admins only, audited)."""
    user = _exporting_admin()
    body = hubspot.export(db.session, user.account_id, utcnow(), user)
    db.session.commit()
    return csv_safe.download(body, "contacts-hubspot.csv")


def _exporting_admin():
    """The caller, when an admin: a bulk export of personal data is theirs alone."""
    if not g.user.is_admin:
        raise ApiError(403, "forbidden", "Only an admin may export the account's contacts.")
    return g.user
