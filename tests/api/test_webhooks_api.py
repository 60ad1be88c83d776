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


def test_a_url_written_with_a_refused_address_is_refused_at_once(client, make_user, settings):
    """Written addresses (any numeric form) and localhost names get a clear 400 when the endpoint
    is made; a name is left to each attempt's check (its answers may change)."""
    _, token = make_user("boss@acme.test", admin=True)

    def post(url: str, **extra):
        body = {"url": url, "event_types": ["message.opened"]} | extra
        return client.post("/api/v1/webhooks", json=body, headers=auth(token))

    for url in ("http://127.0.0.1:9/x", "http://0x7f000001/", "http://[::1]/", "http://localhost/",
                "http://api.localhost/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.5/",
                "http://100.64.1.1/", "http://169.254.169.254/latest/meta-data",
                "http://224.0.0.1/", "http://0.0.0.0/"):  # fmt: skip
        refused = post(url)
        assert refused.status_code == 400, url
        assert refused.json["message"].startswith("The URL is refused: the host is "), url
    assert "a cloud metadata address" in post("http://169.254.169.254/").json["message"]
    assert post("http://10.0.0.5/", allow_private="10.0.0.0/8").status_code == 201
    # Metadata stays refused whatever the allowance.
    assert post("http://169.254.169.254/", allow_private="169.254.0.0/16").status_code == 400
    made = post("https://hooks.acme.test/in")
    assert made.status_code == 201  # a name: checked where it is used, at each attempt
    path = f"/api/v1/webhooks/{made.json['id']}"
    assert (
        client.patch(path, json={"url": "http://10.1.2.3/"}, headers=auth(token)).status_code == 400
    )
    assert (
        client.patch(path, json={"allow_private": "10.0.0.0/8"}, headers=auth(token)).status_code
        == 200
    )
    moved = client.patch(path, json={"url": "http://10.1.2.3/"}, headers=auth(token))
    assert moved.status_code == 200 and moved.json["url"] == "http://10.1.2.3/"  # its own allowance
    taken = client.patch(path, json={"allow_private": ""}, headers=auth(token))
    assert taken.status_code == 400  # the allowance its written address needs stays


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
