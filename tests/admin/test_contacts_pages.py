"""Contacts pages: list, detail, edit, CSV import and export; every member, one account."""

from __future__ import annotations

import io

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Contact
from server.services import contacts
from tests.support.admin import SUBJECT, add_message, csrf_from


def _ana(people):
    contact, _ = contacts.upsert_contact(db.session, people.admin.account_id, SUBJECT, "Ana Ruiz")
    add_message(people.rep, SUBJECT)
    db.session.commit()
    return contact


def test_members_list_search_and_open_contacts(app, login, people):
    _ana(people)
    for user in (people.admin, people.rep):
        client = login(user)
        listing = client.get("/admin/contacts?q=ruiz")
        assert listing.status_code == 200 and "Ana Ruiz" in listing.text
        assert "Ana Ruiz" not in client.get("/admin/contacts?q=nobody").text
        detail = client.get(f"/admin/contacts/view/{SUBJECT}")
        assert detail.status_code == 200 and f"Hello {SUBJECT}" in detail.text
    assert "Data requests" not in login(people.rep).get("/admin/contacts").text  # rep's menu


def test_edit_a_contact(app, login, people):
    _ana(people)
    client = login(people.rep)
    page = client.get(f"/admin/contacts/view/{SUBJECT}")
    form = {"csrf_token": csrf_from(page.text), "name": "Ana Ruiz", "title": "CTO",
            "company_name": "Acme Customer", "notes": "met at a fair"}  # fmt: skip
    assert client.post(f"/admin/contacts/view/{SUBJECT}", data=form).status_code == 302
    contact = db.session.scalar(select(Contact))
    db.session.refresh(contact)
    assert (contact.title, contact.notes, contact.company.name) == (
        "CTO", "met at a fair", "Acme Customer",
    )  # fmt: skip
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "contacts.edit"))


def test_import_and_export_csv(app, login, people):
    client = login(people.admin)
    token = csrf_from(client.get("/admin/contacts").text)
    data = b"email,name,title\nbo@example.test,Bo,CEO\nnot-an-address,X,Y\n"
    report = client.post(
        "/admin/contacts/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "leads.csv")},
        content_type="multipart/form-data",
    )
    assert report.status_code == 200
    assert "1 created, 0 updated, 1 rejected" in report.text and "Line 3" in report.text
    exported = client.get("/admin/contacts.csv")
    assert exported.mimetype == "text/csv" and "bo@example.test" in exported.text
    empty = client.post("/admin/contacts/import", data={"csrf_token": token})
    assert empty.status_code == 400


def test_other_accounts_and_anonymous_visitors_get_nothing(app, login, people):
    _ana(people)
    other = login(people.other)
    assert SUBJECT not in other.get("/admin/contacts").text
    assert other.get(f"/admin/contacts/view/{SUBJECT}").status_code == 404
    assert SUBJECT not in other.get("/admin/contacts.csv").text
    token = csrf_from(other.get("/admin/contacts").text)
    edit = other.post(f"/admin/contacts/view/{SUBJECT}", data={"csrf_token": token, "name": "X"})
    assert edit.status_code == 404
    anonymous = app.test_client()
    for path in ("/admin/contacts", f"/admin/contacts/view/{SUBJECT}", "/admin/contacts.csv"):
        assert anonymous.get(path).headers["Location"].startswith("/auth/login")
    no_csrf = login(people.admin).post(f"/admin/contacts/view/{SUBJECT}", data={"name": "X"})
    assert no_csrf.status_code == 400
    assert db.session.scalar(select(Contact.name)) == "Ana Ruiz"
