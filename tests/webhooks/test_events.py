"""Which events are emitted, with what, in whose transaction; and what stops and scrubs them:
type filters, machine activity, erasure, tracking switched off, termination, retention."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.common import personal_data
from server.contacts import service as contacts
from server.extensions import db
from server.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from server.models.base import utcnow
from server.privacy import data_requests, termination
from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows
from server.webhooks import endpoints, events
from server.webhooks import personal_data as webhook_data
from tests.support import make_event
from tests.support.admin import post_form, sign_in

SECRET_KEY = "test-secret-key"
ANA = "ana@customer.test"


@pytest.fixture
def sent(app, hook_admin, endpoint):
    """A message of the admin's to Ana (its message.sent queued); returns (message, kid)."""
    from server.messages import service as messages

    user = hook_admin[0]
    tracker = messages.Tracker("http://track.test", ("test-link-secret",))
    data = {"subject": "Offer", "recipients": [{"email": ANA, "name": "Ana"}]}
    message, _ = messages.register(db.session, user, data, tracker)
    db.session.commit()
    return message, message.kid


def emitted(type_: str | None = None) -> list[dict]:
    db.session.expire_all()
    query = select(WebhookEvent).order_by(WebhookEvent.created_at, WebhookEvent.id)
    rows = [e for e in db.session.scalars(query) if type_ is None or e.type == type_]
    return [json.loads(e.payload) if e.payload else None for e in rows]


def write(*hits) -> None:
    BatchWriter(db.engine, Windows(scanner=0, burst=3, self_view=0))(list(hits))


def test_real_opens_and_clicks_become_events_machine_activity_does_not(sent):
    message, kid = sent
    at = time.time() - 3600
    write(
        make_event(kid, message.id, occurred_at=at, verdict="human", country="DE"),
        make_event(kid, message.id, occurred_at=at + 60, verdict="proxy"),
        make_event(kid, message.id, occurred_at=at + 120, verdict="machine"),
        make_event(kid, message.id, occurred_at=at + 180, verdict="bot"),
        make_event(
            kid,
            message.id,
            kind="click",
            occurred_at=at + 240,
            verdict="human",
            link_url="https://shop.test/x",
        ),
        make_event(
            kid,
            message.id,
            kind="click",
            occurred_at=at + 300,
            verdict="scanner",
            link_url="https://shop.test/x",
        ),
    )
    opens = emitted("message.opened")
    assert [o["data"]["verdict"] for o in opens] == ["human", "proxy"]
    assert opens[0]["data"]["location"]["country"] == "DE"
    assert opens[0]["data"]["recipients"] == [{"email": ANA, "name": "Ana"}]
    [click] = emitted("link.clicked")
    assert click["data"]["url"] == "https://shop.test/x"
    assert click["data"]["message_id"] == message.id
    # A replayed batch stores nothing twice, so it emits nothing twice.
    count = len(emitted())
    write(make_event(kid, message.id, id=opens[0]["data"]["event_id"], occurred_at=at))
    assert len(emitted()) == count


def test_a_link_burst_relabelled_as_a_scanner_is_no_click(sent):
    message, kid = sent
    at = time.time() - 60
    burst = [
        make_event(
            kid,
            message.id,
            kind="click",
            occurred_at=at + i * 0.1,
            verdict="human",
            link_url=f"https://shop.test/{i}",
        )
        for i in range(4)
    ]
    write(*burst)
    assert emitted("link.clicked") == []


def test_replies_bounces_contact_edits_and_data_requests(app, sent, hook_admin):
    message, _ = sent
    account = hook_admin[0].account_id
    now = time.time()
    write(
        make_event(
            "", message.id, kind="reply", account_id=account, verdict="human", occurred_at=now
        ),
        make_event(
            "", message.id, kind="bounce", account_id=account, verdict="human", occurred_at=now + 1
        ),
        make_event(
            "",
            message.id,
            kind="auto_reply",
            account_id=account,
            verdict="human",
            occurred_at=now + 2,
        ),
    )
    assert [e["data"]["message_id"] for e in emitted("message.replied")] == [message.id]
    assert len(emitted("message.bounced")) == 1
    contact = contacts.find_contact(db.session, account, ANA)
    contacts.edit_contact(db.session, contact, {"title": "CTO"}, hook_admin[0])
    db.session.commit()
    [update] = emitted("contact.updated")
    assert update["data"]["email"] == ANA and update["data"]["title"] == "CTO"
    assert update["data"]["changed"] == ["title"]
    contacts.edit_contact(
        db.session, contact, {"title": "CTO", "name": contact.name}, hook_admin[0]
    )
    db.session.commit()
    assert len(emitted("contact.updated")) == 1  # saved as it was: nothing changed, nothing sent
    data_requests.rectify(db.session, SECRET_KEY, hook_admin[0], ANA, {"name": "Ana B"})
    db.session.commit()
    [done] = emitted("data_request.completed")
    assert done["data"]["kind"] == "rectify" and ANA not in json.dumps(done)


def test_an_endpoint_gets_only_its_types_and_a_disabled_one_nothing(app, hook_admin, receiver):
    user = hook_admin[0]
    local = {"url": receiver.url, "allow_private": "127.0.0.1/32"}
    ep, _ = endpoints.create(
        db.session, SECRET_KEY, user, local | {"event_types": ["contact.updated"]}
    )
    off, _ = endpoints.create(db.session, SECRET_KEY, user, local)
    endpoints.update_endpoint(db.session, user, off, {"enabled": False})
    db.session.commit()
    assert events.emit(db.session, user.account_id, "message.sent", {}) is None
    event_id = events.emit(db.session, user.account_id, "contact.updated", {"x": 1})
    db.session.commit()
    rows = db.session.scalars(select(WebhookDelivery)).all()
    assert [(d.endpoint_id, d.event_id) for d in rows] == [(ep.id, event_id)]


def test_erasure_removes_pending_and_sent_deliveries_about_the_person(sent, hook_admin):
    message, kid = sent
    write(make_event(kid, message.id, verdict="human", occurred_at=time.time() - 10))
    assert len(emitted()) == 2
    found = personal_data.find_all(db.session, hook_admin[0].account_id, ANA)["webhooks"]
    assert len(found["webhook_events"]) == 2
    data_requests.erase(db.session, SECRET_KEY, hook_admin[0], ANA)
    db.session.commit()
    left = emitted()
    assert [e["type"] for e in left] == ["data_request.completed"]
    assert ANA not in json.dumps(left)
    pending = db.session.scalars(select(WebhookDelivery.event_id)).all()
    assert len(pending) == 1


def test_tracking_switched_off_scrubs_pending_opens(app, sent, hook_admin):
    message, kid = sent
    write(make_event(kid, message.id, verdict="human", occurred_at=time.time() - 10))
    client = sign_in(app.test_client(), SECRET_KEY, hook_admin[0])
    response = post_form(client, "/admin/settings", "/admin/settings", retention_days="396")
    assert response.status_code == 302
    db.session.expire_all()
    states = dict(
        db.session.execute(
            select(WebhookEvent.type, WebhookDelivery.status).join(
                WebhookDelivery, WebhookDelivery.event_id == WebhookEvent.id
            )
        ).all()
    )
    assert states == {"message.sent": "pending", "message.opened": "cancelled"}
    assert emitted("message.opened") == [None]  # the body is gone


def test_termination_removes_endpoints_events_and_log(app, sent, hook_admin):
    account = hook_admin[0].account
    termination.terminate(db.session, account, "Acme", "anonymize")
    db.session.commit()
    assert db.session.scalars(select(WebhookEndpoint)).all() == []
    assert emitted() == []


def test_retention_removes_bodies_then_log_lines(app, sent, hook_admin):
    later = utcnow() + timedelta(days=8)
    assert webhook_data.purge(db.session, later, 7)["bodies"] == 1
    assert emitted() == [None]
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    delivery.status = "failed"
    db.session.commit()
    counts = webhook_data.purge(db.session, utcnow() + timedelta(days=31), 7)
    assert (counts["log"], counts["events"]) == (1, 1)


def test_a_reps_tracking_switched_off_scrubs_only_their_pending_opens(app, sent, hook_admin):
    from server.accounts import users as accounts
    from server.messages import service as messages

    message, kid = sent  # the admin's own mail
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    tracker = messages.Tracker("http://track.test", ("test-link-secret",))
    data = {"subject": "Hi", "recipients": [{"email": "bo@customer.test"}]}
    theirs, _ = messages.register(db.session, rep, data, tracker)
    db.session.commit()
    now = time.time() - 10
    write(
        make_event(kid, message.id, verdict="human", occurred_at=now),
        make_event(theirs.kid, theirs.id, verdict="human", occurred_at=now),
    )
    client = sign_in(app.test_client(), SECRET_KEY, hook_admin[0])
    path = f"/admin/team/{rep.id}/tracking"
    assert post_form(client, path, "/admin/team", tracking="off").status_code == 302
    db.session.expire_all()
    rows = db.session.execute(
        select(WebhookEvent.user_id, WebhookDelivery.status)
        .join(WebhookDelivery, WebhookDelivery.event_id == WebhookEvent.id)
        .where(WebhookEvent.type == "message.opened")
    ).all()
    assert sorted(rows) == sorted([(hook_admin[0].id, "pending"), (rep.id, "cancelled")])
