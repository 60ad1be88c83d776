"""Contacts pages: list, detail, edit, CSV import and export; every member, one account."""

from __future__ import annotations

import io
from dataclasses import replace

from sqlalchemy import select

from server.contacts import enrichment
from server.contacts import service as contacts
from server.extensions import db
from server.models import AuditEntry, Contact
from server.models.base import utcnow
from tests.support.admin import SUBJECT, add_message, csrf_from
from tests.support.jobs import run_jobs


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
    queued = client.post(
        "/admin/contacts/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "leads.csv")},
        content_type="multipart/form-data",
    )
    assert queued.status_code == 303 and queued.headers["Location"].startswith("/admin/jobs/")
    job = queued.headers["Location"]
    waiting = client.get(job)
    assert "Waiting for the worker" in waiting.text and "job.js" in waiting.text
    assert client.get(f"{job}/status").json == {
        "status": "queued",
        "label": "Waiting for the worker",
        "finished": False,
        "progress": {"total": 2, "done": 0, "failed": 0},
    }
    run_jobs(app)
    status = client.get(f"{job}/status").json
    assert status["finished"] and status["progress"] == {"total": 2, "done": 2, "failed": 1}
    report = client.get(job)
    assert "1 created, 0 updated, 1 rejected" in report.text and "Line 3" in report.text
    assert "not an email address" in report.text
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


def test_only_admins_export_contacts(app, login, people):
    _ana(people)
    rep = login(people.rep)
    assert rep.get("/admin/contacts.csv").status_code == 403
    assert "Export CSV" not in rep.get("/admin/contacts").text
    assert SUBJECT in login(people.admin).get("/admin/contacts.csv").text


def test_saving_an_unchanged_form_keeps_the_company(app, login, people):
    account_id = people.admin.account_id
    pair = [("ana@acme.com", ""), ("bo@acme.io", "")]
    contacts.add_recipients(db.session, account_id, pair, enrich=False)
    db.session.commit()
    client = login(people.admin)
    page = client.get("/admin/contacts/view/bo@acme.io")
    form = {"csrf_token": csrf_from(page.text), "name": "", "title": "", "phone": "",
            "notes": "", "company_name": "Acme"}  # fmt: skip
    assert client.post("/admin/contacts/view/bo@acme.io", data=form).status_code == 302
    db.session.expire_all()
    assert contacts.find_contact(db.session, account_id, "bo@acme.io").company.domain == "acme.io"


def test_the_contact_page_shows_enrichment_and_timeline_and_refreshes(app, login, people):
    app.config["LEADCAMP"] = replace(app.config["LEADCAMP"], enrichment_api_key="sk_test")
    contact = _ana(people)
    row = enrichment.request(db.session, contact, utcnow())
    row.status, row.fetched_at, row.next_attempt_at = "found", utcnow(), None
    row.person = {"name": {"full": "Ana Ruiz"}, "employment": {"title": "Chief Technology Officer"}}
    row.company = {"name": "Acme Customer Inc", "sector": "Information Technology"}
    db.session.commit()
    client = login(people.admin)
    page = client.get(f"/admin/contacts/view/{SUBJECT}").text
    for shown in ("Chief Technology Officer", "Acme Customer Inc", "Information Technology",
                  "Timeline", "Catalonia", "https://shop.test/"):  # fmt: skip
        assert shown in page, shown
    refresh = f"/admin/contacts/view/{SUBJECT}/enrich"
    assert client.post(refresh).status_code == 400  # no CSRF token
    answer = client.post(refresh, data={"csrf_token": csrf_from(page)})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/admin/jobs/")
    assert "Enrichment refresh" in client.get(answer.headers["Location"]).text
    db.session.refresh(row)
    assert row.next_attempt_at is not None and row.requested_at > row.fetched_at
    contacts.update_contact(db.session, contact, {"do_not_enrich": True})
    db.session.commit()
    page = client.get(f"/admin/contacts/view/{SUBJECT}").text
    assert "do not enrich" in page.lower() and "Acme Customer Inc" not in page
    refused = client.post(refresh, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Enrichment is off for this contact" in refused.text


def test_a_malformed_offset_shows_the_first_page(app, login, people):
    _ana(people)
    client = login(people.rep)
    for offset in ("²", "①", "٣", "-1", "1e3", "9" * 5000, str(10**12)):
        listing = client.get("/admin/contacts", query_string={"offset": offset})
        assert listing.status_code == 200 and "Ana Ruiz" in listing.text, offset
    assert "Ana Ruiz" not in client.get("/admin/contacts?offset=50").text
