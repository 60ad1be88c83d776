"""The webhook API: admins only, the secret shown once, validation, log and replays."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import WebhookDelivery
from server.webhooks import delivery, events, guard

HOOK = {"url": "https://hooks.acme.test/in", "event_types": ["contact.updated", "link.clicked"]}


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_rep_may_not_manage_webhooks(client, rep):
    assert client.get("/api/v1/webhooks", headers=auth(rep[1])).status_code == 403
    response = client.post("/api/v1/webhooks", json=HOOK, headers=auth(rep[1]))
    assert response.status_code == 403


def test_create_list_patch_rotate_delete(client, make_user):
    _, token = make_user("boss@acme.test", admin=True)
    created = client.post("/api/v1/webhooks", json=HOOK, headers=auth(token))
    assert created.status_code == 201
    body = created.json
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["contact.updated", "link.clicked"]
    listed = client.get("/api/v1/webhooks", headers=auth(token)).json
    assert [e["id"] for e in listed["endpoints"]] == [body["id"]]
    assert "secret" not in listed["endpoints"][0]
    assert "message.opened" in listed["event_types"]
    path = f"/api/v1/webhooks/{body['id']}"
    patched = client.patch(path, json={"enabled": False, "allow_private": "10.0.0.0/8"},
                           headers=auth(token))  # fmt: skip
    assert patched.status_code == 200
    assert (patched.json["enabled"], patched.json["allow_private"]) == (False, ["10.0.0.0/8"])
    rotated = client.post(f"{path}/rotate-secret", headers=auth(token)).json
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]
    assert rotated["previous_secret_expires_at"]
    assert client.delete(path, headers=auth(token)).json == {"deleted": True}
    assert client.get(path, headers=auth(token)).status_code == 404


def test_bad_urls_types_and_ranges_are_refused(client, make_user):
    _, token = make_user("boss@acme.test", admin=True)
    for bad in (
        {"url": "ftp://hooks.acme.test/"},
        {"url": "https://user:pw@hooks.acme.test/"},
        {"url": "https://hooks.acme.test/", "event_types": ["message.deleted"]},
        {"url": "https://hooks.acme.test/", "allow_private": "not-a-range"},
    ):
        response = client.post("/api/v1/webhooks", json=bad, headers=auth(token))
        assert response.status_code == 400, bad


def test_the_log_and_replays(app, client, make_user, monkeypatch):
    monkeypatch.setattr(guard, "resolve", lambda host, port: ["10.9.8.7"])
    admin, token = make_user("boss@acme.test", admin=True)
    hook = client.post("/api/v1/webhooks", json=HOOK, headers=auth(token)).json
    events.emit(db.session, admin.account_id, "contact.updated", {"email": "a@b.test"})
    db.session.commit()
    config = delivery.Config(secret_key=app.config["SECRET_KEY"], timeout=1.0)
    # hooks.acme.test resolves to a private address: the guard refuses it, the log says why.
    delivery.deliver_due(db.session, config)
    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=auth(token)).json
    [line] = log["deliveries"]
    assert (line["status"], line["attempts"], line["event_type"]) == (
        "pending",
        1,
        "contact.updated",
    )
    assert line["error"].startswith("refused:")
    again = client.post(f"/api/v1/webhooks/deliveries/{line['id']}/replay", headers=auth(token))
    assert again.status_code == 201
    assert again.json["event_id"] == line["event_id"] and again.json["status"] == "pending"
    for row in db.session.scalars(select(WebhookDelivery)):
        row.status = "failed"
    db.session.commit()
    span = {"since": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z"}
    replayed = client.post(f"/api/v1/webhooks/{hook['id']}/replay", json=span, headers=auth(token))
    assert replayed.json == {"queued": 1}
    backwards = {"since": span["until"], "until": span["since"]}
    response = client.post(
        f"/api/v1/webhooks/{hook['id']}/replay", json=backwards, headers=auth(token)
    )
    assert response.status_code == 400
