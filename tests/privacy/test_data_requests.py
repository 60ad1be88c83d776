"""Data-subject requests: find, export, rectify, erase — and erasure leaves no trace anywhere."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.accounts import team
from server.accounts.users import AccountError
from server.common import job_runs
from server.contacts import service as contacts
from server.extensions import db
from server.models import (
    Contact,
    DataRequest,
    Enrichment,
    JobRun,
    Link,
    Message,
    MessageSummary,
)
from server.privacy import data_requests, retention
from tests.support.admin import SUBJECT, add_message, tables_mentioning


def test_search_finds_messages_events_and_invitations(app, admin):
    message = add_message(admin, SUBJECT, events=3)
    add_message(admin, "someone.else@example.test")
    team.invite(db.session, "k", admin, SUBJECT, "rep")
    found, request = data_requests.search(db.session, "k", admin, SUBJECT.upper())
    assert [m["id"] for m in found["messages"]["messages"]] == [message.id]
    assert len(found["messages"]["events"]) == 3
    assert found["invitations"]["invitations"][0]["email"] == SUBJECT
    assert request.kind == "search" and SUBJECT not in request.subject_digest


def _exported(admin, email: str = SUBJECT) -> JobRun:
    """An export of `email`, queued and then done as the worker does it."""
    run = data_requests.export(db.session, "k", admin, email)
    db.session.commit()
    assert job_runs.perform(db.session, run.id, data_requests.write_export) == "succeeded"
    return db.session.get(JobRun, run.id)


def test_an_export_is_a_job_that_writes_json_and_csv_for_an_hour(app, admin):
    add_message(admin, SUBJECT)
    queued = data_requests.export(db.session, "k", admin, SUBJECT)
    assert (queued.kind, queued.status, queued.files) == ("dsr_export", "queued", None)
    db.session.commit()
    run = _exported(admin)
    body, media = data_requests.export_file(run, "json")
    assert media == "application/json" and json.loads(body)["subject"] == SUBJECT
    assert json.loads(body)["data"]["messages"]["messages"][0]["recipients"][0]["email"] == SUBJECT
    body, media = data_requests.export_file(run, "csv")
    rows = list(csv.reader(io.StringIO(body)))
    assert media == "text/csv" and rows[0] == ["source", "kind", "row", "field", "value"]
    assert len(rows) > 5
    request = db.session.get(DataRequest, run.result["request_id"])
    assert request.kind == "export" and request.outcome == "files written"
    assert "messages" in request.scope and SUBJECT not in request.scope
    with pytest.raises(AccountError, match="no such export"):
        data_requests.export_file(run, "xml")
    later = run.finished_at + timedelta(seconds=data_requests.EXPORT_MAX_AGE)
    with pytest.raises(AccountError, match="expired"):
        data_requests.export_file(run, "csv", now=later)


def test_erasure_and_expiry_end_the_exports(app, admin):
    add_message(admin, SUBJECT)
    erased, kept = _exported(admin), _exported(admin, "bo@example.test")
    erased_id, kept_id = erased.id, kept.id
    data_requests.erase(db.session, "k", admin, SUBJECT)
    db.session.commit()
    assert db.session.get(JobRun, erased_id) is None  # the person's export went with them
    assert json.loads(data_requests.export_file(kept, "json")[0])["subject"] == "bo@example.test"
    later = datetime.now(UTC) + timedelta(seconds=data_requests.EXPORT_MAX_AGE + 1)
    retention.purge(db.session, later)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(JobRun, kept_id).files is None
    with pytest.raises(AccountError, match="expired"):
        data_requests.export_file(db.session.get(JobRun, kept_id), "json")


def test_rectify_corrects_the_recipient_name(app, admin):
    message = add_message(admin, SUBJECT)
    data_requests.rectify(db.session, "k", admin, SUBJECT, {"name": "Ana Ruiz-Soler"})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Message, message.id).recipients[0].name == "Ana Ruiz-Soler"
    with pytest.raises(AccountError):
        data_requests.rectify(db.session, "k", admin, SUBJECT, {"password": "x"})


def test_erase_leaves_no_trace_of_the_address_in_any_table(app, admin):
    erased = add_message(admin, SUBJECT, events=4)
    kept = add_message(admin, "someone.else@example.test", events=2, name="Bo")
    shared = add_message(admin, "someone.else@example.test", events=2, name="Bo")
    shared.recipients.append(type(shared.recipients[0])(email=SUBJECT, name="Ana"))
    shared.subject = f"Re: intro to {SUBJECT.upper()}"  # kept for Bo, but it names Ana
    # Links carry the address percent-encoded, form-encoded and in capitals, too.
    for position, who in enumerate(("ana.ruiz%40acme-customer.test", SUBJECT.upper())):
        db.session.add(
            Link(message_id=kept.id, position=position, url=f"https://shop.test/?who={who}")
        )
    db.session.add(
        Link(message_id=kept.id, position=2, url="https://shop.test/?who=bo%40example.test")
    )
    db.session.add(MessageSummary(message_id=erased.id, account_id=admin.account_id, opens=4))
    team.invite(db.session, "k", admin, SUBJECT, "rep")
    data_requests.search(db.session, "k", admin, SUBJECT)
    db.session.commit()
    assert "recipients.email" in tables_mentioning(SUBJECT)

    result = data_requests.erase(db.session, "k", admin, SUBJECT)
    db.session.commit()

    assert tables_mentioning(SUBJECT) == []
    assert tables_mentioning("ana.ruiz") == []  # in any spelling a URL may carry
    assert tables_mentioning("Ana Ruiz") == []  # the recipient name went with the row
    assert tables_mentioning("bo%40example.test") == ["links.url"]  # other people's links stay
    assert db.session.get(Message, shared.id).subject == ""
    assert result["messages"] > 0 and result["invitations"] == 1
    # The summary is recomputed from the events that remain (none); other people's rows stay.
    assert db.session.get(MessageSummary, erased.id) is None
    assert [r.email for r in db.session.get(Message, kept.id).recipients] == [
        "someone.else@example.test"
    ]
    kinds = db.session.scalars(select(DataRequest.kind).order_by(DataRequest.id)).all()
    assert kinds == ["search", "erase"]


GMAIL_SEEN = "Ana.Ruiz+news@Gmail.com"


def _contact_with_enrichment(admin):
    contact, _ = contacts.upsert_contact(db.session, admin.account_id, GMAIL_SEEN, "Ana Ruiz")
    db.session.add(
        Enrichment(
            account_id=admin.account_id,
            contact_id=contact.id,
            provider="clearbit",
            status="found",
            person={"name": {"fullName": "Ana Ruiz"}, "email": "anaruiz@gmail.com"},
            company={"domain": "ruiz-consulting.test", "name": "Ruiz Consulting"},
        )
    )
    message = add_message(admin, GMAIL_SEEN.lower(), events=2)
    db.session.commit()
    return contact, message


def test_contacts_and_enrichment_are_found_under_every_spelling(app, admin):
    _, message = _contact_with_enrichment(admin)
    found, _ = data_requests.search(db.session, "k", admin, "anaruiz@gmail.com")
    assert found["contacts"]["contact"][0]["email"] == "anaruiz@gmail.com"
    assert found["contacts"]["enrichment"][0]["company"]["name"] == "Ruiz Consulting"
    assert [m["id"] for m in found["messages"]["messages"]] == [message.id]
    data_requests.rectify(db.session, "k", admin, "anaruiz@gmail.com", {"title": "CTO"})
    db.session.commit()
    assert db.session.scalar(select(Contact.title)) == "CTO"


def test_erase_removes_contact_enrichment_and_recipient_rows_everywhere(app, admin):
    _contact_with_enrichment(admin)
    assert "enrichments.person" in tables_mentioning("anaruiz@gmail.com")
    result = data_requests.erase(db.session, "k", admin, "anaruiz@gmail.com")
    db.session.commit()
    assert result["contacts"] >= 3 and result["messages"] >= 3
    for needle in ("anaruiz", "ana.ruiz", "Ruiz Consulting"):
        assert tables_mentioning(needle) == [], needle


def test_requests_take_one_address_and_name_it_by_one_digest(app, admin):
    for address in ("nobody", "a b@example.test", "x" * 320 + "@example.test"):
        with pytest.raises(AccountError, match="Enter one email address"):
            data_requests.search(db.session, "k", admin, address)
    data_requests.export(db.session, "k", admin, SUBJECT)
    data_requests.erase(db.session, "k", admin, f"  {SUBJECT.upper()} ")
    db.session.commit()
    digests = set(db.session.scalars(select(DataRequest.subject_digest)))
    assert digests == {data_requests.subject_digest("k", admin.account_id, SUBJECT)}


def test_the_csv_export_defuses_formulas(app, admin):
    """What a lead typed (their name, a note) cannot run as a formula in the admin's spreadsheet."""
    message = add_message(admin, SUBJECT)
    message.subject = "@SUM(1+1)"
    name = '=HYPERLINK("http://evil.test","open me")'
    contact, _ = contacts.upsert_contact(db.session, admin.account_id, SUBJECT, name)
    contact.title, contact.notes = "+cmd|' /C calc'!A0", "\t=1+1"
    db.session.commit()
    body, _ = data_requests.export_file(_exported(admin), "csv")
    values = [row[4] for row in csv.reader(io.StringIO(body))]
    for typed in (name, "@SUM(1+1)", "+cmd|' /C calc'!A0", "\t=1+1"):
        assert "'" + typed in values and typed not in values
    assert not [v for v in values if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
