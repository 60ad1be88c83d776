"""Delivery to a real local receiver: Standard Webhooks signatures that the reference library
verifies, retries across an outage with every event arriving once, replay, auto-disable."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from server.common.mail import Mailer
from server.extensions import db
from server.messages import service as messages
from server.models import AuditEntry, WebhookDelivery, WebhookEvent
from server.models.base import utcnow
from server.webhooks import delivery, endpoints, guard

SECRET_KEY = "test-secret-key"


def config(**changes) -> delivery.Config:
    return delivery.Config(secret_key=SECRET_KEY, timeout=5.0, rand=lambda: 0.5, **changes)


def send_message(user, n: int):
    tracker = messages.Tracker("http://track.test", ("test-link-secret",))
    data = {"subject": f"Offer {n}", "recipients": [{"email": f"ana{n}@customer.test"}]}
    message, _ = messages.register(db.session, user, data, tracker)
    db.session.commit()
    return message


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_signatures_verify_with_the_reference_library(app, hook_admin, endpoint, receiver):
    _, secret = endpoint
    message = send_message(hook_admin[0], 1)
    counts = delivery.deliver_due(db.session, config())
    assert counts == {"succeeded": 1}
    headers, body = receiver.requests[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "message.sent"
    assert payload["data"]["message_id"] == message.id
    assert payload["data"]["recipients"] == [{"email": "ana1@customer.test", "name": ""}]
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoints.signing.new_secret()).verify(body, headers)
    [line] = deliveries()
    assert (line.status, line.attempts, line.response_code) == ("succeeded", 1, 204)
    assert line.latency_ms is not None and line.error == ""


def test_a_rotated_secret_overlaps_then_expires(app, hook_admin, endpoint, receiver):
    ep, old = endpoint
    new = endpoints.rotate(db.session, SECRET_KEY, hook_admin[0], ep)
    db.session.commit()
    send_message(hook_admin[0], 1)
    delivery.deliver_due(db.session, config())
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    send_message(hook_admin[0], 2)
    delivery.deliver_due(db.session, config(), utcnow() + timedelta(hours=25))
    headers, body = receiver.requests[-1]
    Webhook(new).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(old).verify(body, headers)


def test_a_receiver_down_for_a_while_gets_every_event_once_after_recovery(
    app, hook_admin, endpoint, receiver
):
    receiver.stop()
    sent = [send_message(hook_admin[0], n).id for n in range(5)]
    now = utcnow()
    for step in range(4):  # attempts at 0 s, 10 s, 70 s, 370 s: all refused
        now += timedelta(seconds=[0, 10, 60, 300][step])
        assert delivery.deliver_due(db.session, config(), now) == {"pending": 5}
    lines = deliveries()
    assert {(d.status, d.attempts, d.response_code) for d in lines} == {("pending", 4, None)}
    assert all("connection failed" in d.error for d in lines)
    assert all(d.next_attempt_at - now == timedelta(minutes=30) for d in lines)
    receiver.start()
    # Not due yet: nothing goes early.
    assert delivery.deliver_due(db.session, config(), now + timedelta(minutes=29)) == {}
    assert delivery.deliver_due(db.session, config(), now + timedelta(minutes=31)) == {
        "succeeded": 5
    }
    assert delivery.deliver_due(db.session, config(), now + timedelta(days=4)) == {}
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(ids) == len(set(ids)) == 5
    got = {json.loads(body)["data"]["message_id"] for _, body in receiver.requests}
    assert got == set(sent)
    assert {(d.status, d.attempts) for d in deliveries()} == {("succeeded", 5)}


def test_retries_end_after_about_three_days(app, hook_admin, endpoint, receiver):
    receiver.status = 500
    send_message(hook_admin[0], 1)
    now, attempts = utcnow(), 0
    cfg = config(disable_after=timedelta(days=30))
    while deliveries()[0].status == "pending":
        now = deliveries()[0].next_attempt_at
        delivery.deliver_due(db.session, cfg, now)
        attempts += 1
    [line] = deliveries()
    assert (line.status, line.attempts, line.response_code) == ("failed", 11, 500)
    assert attempts == 11 == len(receiver.requests)
    span = line.last_attempt_at - line.created_at
    assert timedelta(hours=68) < span < timedelta(hours=76)


def test_jitter_spreads_retries():
    low = delivery.retry_delay(3, lambda: 0.0)
    high = delivery.retry_delay(3, lambda: 1.0)
    assert low == timedelta(minutes=4) and high == timedelta(minutes=6)
    assert delivery.retry_delay(11) is None


def test_sustained_failure_disables_the_endpoint_and_mails_the_admins(
    app, hook_admin, endpoint, receiver
):
    sent_mail = []

    class Recorder(Mailer):
        def send(self, to, subject, body):
            sent_mail.append((to, subject, body))
            return True

    receiver.status = 503
    send_message(hook_admin[0], 1)
    cfg = config(disable_after=timedelta(hours=1), mailer=Recorder(host="smtp.test"))
    now = utcnow()
    delivery.deliver_due(db.session, cfg, now)
    send_message(hook_admin[0], 2)
    delivery.deliver_due(db.session, cfg, now + timedelta(hours=2))
    ep = endpoint[0]
    db.session.refresh(ep)
    assert not ep.enabled and "failed" in ep.disabled_reason
    assert {d.status for d in deliveries()} == {"failed"}
    [(to, subject, body)] = sent_mail
    assert to == ["boss@acme.test"] and "disabled" in subject and ep.url in body
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "webhook.disable" in actions
    # Disabled: new events are not queued for it; nothing is attempted.
    send_message(hook_admin[0], 3)
    assert len(deliveries()) == 2


def test_replay_one_delivery_and_a_time_range(app, hook_admin, endpoint, receiver):
    admin = hook_admin[0]
    receiver.status = 500
    for n in range(3):
        send_message(admin, n)
    delivery.deliver_due(db.session, config())
    first = deliveries()
    # One delivery replayed: same webhook-id, a new log line.
    receiver.status = 200
    again = endpoints.replay(db.session, admin, first[0])
    db.session.commit()
    assert again.event_id == first[0].event_id and again.id != first[0].id
    delivery.deliver_due(db.session, config())
    ids = [h["webhook-id"] for h, _ in receiver.requests]
    # Three first attempts, then the replay (and the two others' due retries are not due yet).
    assert ids[-1] == first[0].event_id and len(ids) == 4
    for line in first:  # give up on the originals so the range replay has work
        line.status, line.next_attempt_at = "failed", None
    db.session.commit()
    since, until = utcnow() - timedelta(hours=1), utcnow() + timedelta(minutes=1)
    queued = endpoints.replay_range(db.session, admin, endpoint[0], since, until)
    db.session.commit()
    assert queued == 2  # the replayed one succeeded already
    delivery.deliver_due(db.session, config())
    assert {h["webhook-id"] for h, _ in receiver.requests[4:]} == {
        first[1].event_id,
        first[2].event_id,
    }
    assert endpoints.replay_range(db.session, admin, endpoint[0], since, until) == 0


def test_a_replay_needs_the_body(app, hook_admin, endpoint, receiver):
    send_message(hook_admin[0], 1)
    event = db.session.scalars(select(WebhookEvent)).one()
    event.payload = None
    db.session.commit()
    with pytest.raises(endpoints.WebhookError, match="no longer kept"):
        endpoints.replay(db.session, hook_admin[0], deliveries()[0])
    assert delivery.deliver_due(db.session, config()) == {"cancelled": 1}
    assert receiver.requests == []


def test_a_refused_address_is_logged_and_retried_like_a_failure(
    app, hook_admin, receiver, monkeypatch
):
    # A name is accepted when the endpoint is made; what it resolves to is checked per attempt.
    port = receiver.url.split(":")[2].split("/")[0]
    endpoints.create(
        db.session, SECRET_KEY, hook_admin[0], {"url": f"http://hooks.acme.test:{port}/"}
    )
    db.session.commit()
    monkeypatch.setattr(guard, "resolve", lambda host, port: ["127.0.0.1"])
    send_message(hook_admin[0], 1)
    assert delivery.deliver_due(db.session, config()) == {"pending": 1}
    [line] = deliveries()
    assert line.error.startswith("refused:") and "loopback" in line.error
    assert receiver.requests == []


def test_the_periodic_tasks_send_and_purge(app, hook_admin, endpoint, receiver):
    from server.jobs import build_huey, register_tasks
    from server.webhooks import jobs

    tasks = register_tasks(build_huey(app.config["LEADCAMP"]), app)
    assert {"deliver_webhooks", "purge_webhooks"} <= set(tasks)
    send_message(hook_admin[0], 1)
    assert jobs.deliver_webhooks(app)() == {"succeeded": 1}
    assert len(receiver.requests) == 1
    assert jobs.purge_webhooks(app)() == {"bodies": 0, "log": 0, "events": 0}
