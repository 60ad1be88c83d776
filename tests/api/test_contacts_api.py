"""The contacts API: list, detail, edit, manual refresh, CSV import and export."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy import select

from server.contacts import csv_io as contacts_csv
from server.contacts import service as contacts
from server.extensions import db
from server.jobs import register_tasks
from server.models import AuditEntry
from tests.support import auth, clearbit
from tests.support.jobs import follow

MESSAGE = {
    "subject": "Quick question",
    # An hour ago: hits seconds after sending would be a security scanner's.
    "sent_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    "recipients": [{"email": "Ana.Ruiz@Acme.com", "name": "Ana"}, {"email": "jo+x@gmail.com"}],
    "html": '<p><a href="https://acme.example/pricing">pricing</a></p>',
}
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def enriching(app, settings):
    """The app with an enrichment key set."""
    app.config["LEADCAMP"] = settings.replace(enrichment_api_key="sk_test")
    return app


def test_list_search_and_paging(client, rep):
    _, token = rep
    assert client.post("/api/v1/messages", json=MESSAGE, headers=auth(token)).status_code == 201
    listed = client.get("/api/v1/contacts", headers=auth(token)).json
    assert listed["total"] == 2
    assert [c["email"] for c in listed["contacts"]] == ["ana.ruiz@acme.com", "jo@gmail.com"]
    ana = listed["contacts"][0]
    assert ana["company"] == {"domain": "acme.com", "name": "Acme"} and ana["name"] == "Ana"
    assert ana["score"] == 0 and ana["enrichment_status"] == "off"  # no key in tests
    found = client.get("/api/v1/contacts?q=ACME&limit=1", headers=auth(token)).json
    assert found["total"] == 1 and found["contacts"][0]["email_display"] == "Ana.Ruiz@Acme.com"
    bad = client.get("/api/v1/contacts?limit=0", headers=auth(token))
    assert bad.status_code == 400 and bad.json["error"] == "invalid_request"
    assert client.get("/api/v1/contacts").status_code == 401


def test_detail_by_any_spelling_and_404(client, app, rep):
    _, token = rep
    created = client.post("/api/v1/messages", json=MESSAGE, headers=auth(token)).json
    pixel = created["html"].split('src="')[1].split('"')[0].removeprefix("http://track.test")
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
    )
    client.get(pixel, headers={"User-Agent": chrome}, environ_base={"REMOTE_ADDR": "81.2.69.142"})
    app.extensions["leadcamp.sink"].flush()
    detail = client.get("/api/v1/contacts/J.O+news@GoogleMail.com", headers=auth(token)).json
    assert detail["email"] == "jo@gmail.com"
    assert detail["enrichment"] == {
        "status": "off",
        "reason": "no_api_key",
        "provider": "clearbit",
        "fetched_at": None,
        "person": None,
        "company": None,
    }
    engagement = detail["engagement"]
    assert (engagement["opens"], engagement["clicks"], engagement["replies"]) == (1, 0, 0)
    assert engagement["score"] > 0 and engagement["last_activity_at"].endswith("Z")
    [entry] = engagement["timeline"]
    assert entry["kind"] == "open" and entry["subject"] == "Quick question"
    assert entry["message_id"] == created["id"] and entry["device"] == "desktop"
    assert detail["messages"] == [
        {
            "id": created["id"],
            "subject": "Quick question",
            "sent_at": created["sent_at"],
            "gmail_thread_id": None,
            "opens": 1,
            "clicks": 0,
            "replies": 0,
        }
    ]
    missing = client.get("/api/v1/contacts/nobody@acme.com", headers=auth(token))
    assert missing.status_code == 404 and missing.json["error"] == "not_found"


def test_patch_edits_and_validates(client, rep):
    _, token = rep
    client.post("/api/v1/messages", json=MESSAGE, headers=auth(token))
    url = "/api/v1/contacts/ana.ruiz@acme.com"
    body = {"name": "Ana Ruiz", "title": "CTO", "phone": "+34 600 000 000", "notes": "Hot lead"}
    patched = client.patch(url, json=body | {"company_name": "Acme Corp"}, headers=auth(token))
    assert patched.status_code == 200, patched.json
    data = patched.json
    assert (data["name"], data["title"], data["phone"], data["notes"]) == tuple(body.values())
    assert data["company"] == {"domain": "acme.com", "name": "Acme Corp", "score": 0}
    assert client.patch(url, json={"notes": None}, headers=auth(token)).json["notes"] == ""
    for bad in ({"email": "x@y.z"}, {"phone": "<script>"}, {"name": "x" * 201}):
        answer = client.patch(url, json=bad, headers=auth(token))
        assert answer.status_code == 400 and answer.json["error"] == "invalid_request"
    broken = client.patch(url, data="{not json", headers=auth(token))
    assert broken.status_code == 400 and broken.json["error"] == "invalid_json"
    missing = client.patch("/api/v1/contacts/no@acme.com", json={}, headers=auth(token))
    assert missing.status_code == 404


def test_other_accounts_contacts_are_invisible(client, make_user):
    _, one = make_user("rep@one.test", account="One")
    _, two = make_user("rep@two.test", account="Two")
    client.post("/api/v1/messages", json=MESSAGE, headers=auth(one))
    assert client.get("/api/v1/contacts", headers=auth(two)).json["total"] == 0
    answer = client.get("/api/v1/contacts/ana.ruiz@acme.com", headers=auth(two))
    assert answer.status_code == 404


def test_manual_refresh_and_the_job_with_a_key(client, enriching, rep, api):
    user, token = rep
    client.post("/api/v1/messages", json=MESSAGE, headers=auth(token))
    detail = client.get("/api/v1/contacts/ana.ruiz@acme.com", headers=auth(token)).json
    assert detail["enrichment"]["status"] == "pending"
    task = register_tasks(MemoryHuey(immediate=True), enriching)["enrich_due"]
    api.get(clearbit.URL, json=clearbit.combined())
    api.get(clearbit.URL, status=404, json=clearbit.NOT_FOUND)
    assert task.call_local() == 2
    assert [call.response.status_code for call in api.calls] == [200, 404]  # both answers used
    db.session.expire_all()
    detail = client.get("/api/v1/contacts/ana.ruiz@acme.com", headers=auth(token)).json
    enrichment = detail["enrichment"]
    assert enrichment["status"] == "found" and enrichment["fetched_at"].endswith("Z")
    assert enrichment["person"]["employment"]["seniority"] == "executive"
    assert enrichment["company"]["parent"] == "acme-holdings.com"
    assert detail["title"] == "Chief Technology Officer"

    api.reset()
    api.get(clearbit.URL, status=202, body="")
    refresh = client.post("/api/v1/contacts/ana.ruiz@acme.com/enrich", headers=auth(token))
    assert refresh.status_code == 202 and refresh.json["status"] == "queued"
    assert not api.calls  # the lookup is the job's
    run = follow(client, refresh, auth(token))
    assert run["status"] == "succeeded" and run["result"]["outcome"] == "queued"
    assert run["items"] == [{"email": "ana.ruiz@acme.com", "status": "queued"}]
    assert [call.response.status_code for call in api.calls] == [202]
    assert task.call_local() == 0  # the periodic job does not ask again meanwhile
    detail = client.get("/api/v1/contacts/ana.ruiz@acme.com", headers=auth(token)).json
    assert detail["enrichment"]["status"] == "queued"
    assert detail["enrichment"]["person"]["name"]["full"] == "Ana Ruiz"  # kept while polling

    client.patch(
        "/api/v1/contacts/ana.ruiz@acme.com", json={"do_not_enrich": True}, headers=auth(token)
    )
    off = client.post("/api/v1/contacts/ana.ruiz@acme.com/enrich", headers=auth(token))
    assert off.status_code == 409 and off.json["error"] == "enrichment_off"
    detail = client.get("/api/v1/contacts/ana.ruiz@acme.com", headers=auth(token)).json
    assert detail["enrichment"]["status"] == "off" and detail["enrichment"]["person"] is None
    ana = contacts.find_contact(db.session, user.account_id, "ana.ruiz@acme.com")
    assert ana.enrichment is None
    api.reset()
    assert task.call_local() == 0 and len(api.calls) == 0


def test_the_job_does_nothing_without_a_key(app, rep, api):
    user, _ = rep
    contacts.add_recipients(db.session, user.account_id, [("ana@acme.com", "")], enrich=True)
    db.session.commit()
    task = register_tasks(MemoryHuey(immediate=True), app)["enrich_due"]
    assert task.call_local() == 0 and len(api.calls) == 0


def test_refresh_is_refused_while_tracking_is_off(client, enriching, rep):
    user, token = rep
    client.post("/api/v1/messages", json=MESSAGE, headers=auth(token))
    user.account.tracking_enabled = False
    db.session.commit()
    answer = client.post("/api/v1/contacts/ana.ruiz@acme.com/enrich", headers=auth(token))
    assert answer.status_code == 409 and "tracking_off" in answer.json["message"]
    detail = client.get("/api/v1/contacts/ana.ruiz@acme.com", headers=auth(token)).json
    assert detail["enrichment"]["reason"] == "tracking_off"


def test_csv_import_and_export(client, make_user):
    _, rep_token = make_user("rep@acme.test")
    _, admin_token = make_user("boss@acme.test", admin=True)
    csv_body = "email,name\nana@acme.com,Ana\nnope,Bad\n".encode("cp1252")
    headers = auth(rep_token) | {"Content-Type": "text/csv"}
    answer = client.post("/api/v1/contacts/import", data=csv_body, headers=headers)
    run = follow(client, answer, auth(rep_token))
    assert run["status"] == "succeeded" and run["kind"] == "contacts_import"
    report = run["result"]
    assert (report["created"], report["updated"], report["failed"]) == (1, 0, 1)
    assert run["items"] == [  # the rejected rows, with their cells as sent
        {
            "row": 3,
            "email": "nope",
            "status": "error",
            "errors": ["email: 'nope' is not an email address"],
            "cells": ["nope", "Bad"],
        }
    ]
    wrong_type = client.post("/api/v1/contacts/import", json={}, headers=auth(rep_token))
    assert wrong_type.status_code == 400
    empty = client.post("/api/v1/contacts/import", data=b"", headers=headers)
    assert empty.status_code == 400 and empty.json["error"] == "invalid_csv"

    assert client.get("/api/v1/contacts/export", headers=auth(rep_token)).status_code == 403
    exported = client.get("/api/v1/contacts/export", headers=auth(admin_token))
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.get_data(as_text=True).splitlines()[1] == "ana@acme.com,Ana,,,Acme,,false"


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_edit_import_and_export_are_audited(client, make_user):
    rep, rep_token = make_user("rep@acme.test")
    admin, admin_token = make_user("boss@acme.test", admin=True)
    headers = auth(rep_token) | {"Content-Type": "text/csv"}
    body = b"email,name\nana@acme.com,Ana\nnope,Bad\n"
    answer = client.post("/api/v1/contacts/import", data=body, headers=headers)
    assert follow(client, answer, auth(rep_token))["status"] == "succeeded"
    assert client.post("/api/v1/contacts/import", data=b"", headers=headers).status_code == 400
    [imported] = audited("contacts.import")
    assert (imported.actor_id, imported.account_id) == (rep.id, rep.account_id)
    assert imported.detail == "1 created, 0 updated, 1 rejected"

    url = "/api/v1/contacts/ana.ruiz@acme.com"
    client.post("/api/v1/messages", json=MESSAGE, headers=auth(rep_token))
    assert client.patch(url, json={"title": "CTO"}, headers=auth(rep_token)).status_code == 200
    assert client.patch(url, json={"title": "x" * 201}, headers=auth(rep_token)).status_code == 400
    ana = contacts.find_contact(db.session, rep.account_id, "ana.ruiz@acme.com")
    [edited] = audited("contacts.edit")
    assert (edited.actor_id, edited.target) == (rep.id, f"contact #{ana.id}")
    assert "ana" not in edited.target.lower()  # ids, never addresses

    assert client.get("/api/v1/contacts/export", headers=auth(rep_token)).status_code == 403
    assert audited("contacts.export") == []
    assert client.get("/api/v1/contacts/export", headers=auth(admin_token)).status_code == 200
    [exported] = audited("contacts.export")
    assert (exported.actor_id, exported.account_id) == (admin.id, admin.account_id)


def test_a_csv_import_over_the_limit_is_a_json_413(client, make_user, monkeypatch):
    monkeypatch.setattr(contacts_csv, "MAX_MB", 2)
    monkeypatch.setattr(contacts_csv, "MAX_BYTES", 2 * 1024 * 1024)
    _, token = make_user("rep@acme.test")
    headers = auth(token) | {"Content-Type": "text/csv"}
    body = b"email,notes\n" + b"ana@acme.com," + b"n" * (3 * 1024 * 1024) + b"\n"
    refused = client.post("/api/v1/contacts/import", data=body, headers=headers)
    assert refused.status_code == 413 and refused.json == {
        "error": "payload_too_large",
        "message": "One import takes a CSV file of up to 2 MB.",
    }
    # Sent without a length (chunked): refused once the body runs past the limit.
    chunked = client.post(
        "/api/v1/contacts/import", input_stream=io.BytesIO(body),
        headers=headers | {"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as servers say of a chunked body
    )  # fmt: skip
    assert chunked.status_code == 413 and chunked.json["error"] == "payload_too_large", chunked.json
    # Past the app-wide 1 MiB but within the import's limit: taken.
    taken = client.post("/api/v1/contacts/import", data=body[: 1536 * 1024], headers=headers)
    assert taken.status_code == 202
