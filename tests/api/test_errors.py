"""Every API endpoint refuses bad input with a JSON reason, and never shows another account."""

from __future__ import annotations

import pytest

from server.accounts import users as accounts
from server.common import signing
from server.extensions import db
from tests.support import auth

MESSAGE = {"subject": "Hi", "recipients": [{"email": "lead@example.com"}]}
ENDPOINTS = [
    ("GET", "/api/v1/me", None),
    ("GET", "/api/v1/signing-key", None),
    ("POST", "/api/v1/messages", MESSAGE),
    ("GET", "/api/v1/messages/q2X0c1ZPq0nqz7lU4m2GdA", None),
    ("POST", "/api/v1/threads/status", {"thread_ids": ["18c2a5f0e1d2b3a4"]}),
    ("POST", "/api/v1/messages/q2X0c1ZPq0nqz7lU4m2GdA/self-view", {}),
]
BODIES = [e for e in ENDPOINTS if e[2] is not None]


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.data
    assert response.is_json
    assert response.json["error"] == code
    assert isinstance(response.json["message"], str) and response.json["message"]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_token_is_required(client, method, path, body):
    response = client.open(path, method=method, json=body)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(
        client.open(path, method=method, json=body, headers=auth("lc_nope")), 401, "unauthorized"
    )
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert_error(client.open(path, method=method, json=body, headers=basic), 401, "unauthorized")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_revoked_token_or_deactivated_user_is_refused(client, rep, method, path, body):
    user, token = rep
    assert accounts.revoke_api_token(db.session, token)
    db.session.commit()
    assert_error(
        client.open(path, method=method, json=body, headers=auth(token)), 401, "unauthorized"
    )
    other = accounts.create_api_token(db.session, user)
    user.active = False
    db.session.commit()
    assert_error(
        client.open(path, method=method, json=body, headers=auth(other)), 401, "unauthorized"
    )


@pytest.mark.parametrize(("method", "path", "body"), BODIES)
@pytest.mark.parametrize("raw", [b"{", b"not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe"])
def test_malformed_json_is_a_400(client, rep, method, path, body, raw):
    headers = auth(rep[1]) | {"Content-Type": "application/json"}
    assert_error(client.open(path, method=method, data=raw, headers=headers), 400, "invalid_json")


@pytest.mark.parametrize(("method", "path", "body"), BODIES)
def test_unknown_fields_are_rejected(client, rep, method, path, body):
    response = client.open(path, method=method, json=body | {"surprise": 1}, headers=auth(rep[1]))
    assert_error(response, 400, "invalid_request")
    assert any(d["field"] == "surprise" for d in response.json["details"])


@pytest.mark.parametrize(("method", "path", "body"), BODIES)
def test_oversized_bodies_are_a_400(client, rep, method, path, body):
    huge = body | {"padding": "x" * (2 * 1024 * 1024)}
    response = client.open(path, method=method, json=huge, headers=auth(rep[1]))
    assert_error(response, 400, "payload_too_large")


@pytest.mark.parametrize(
    "body",
    [
        {"recipients": []},
        {"recipients": [{"email": "not-an-address"}]},
        {"recipients": [{"email": "a@b.c"}], "id": "short"},
        {"recipients": [{"email": "a@b.c"}], "sent_at": "2026-01-01T10:00:00"},
        {"recipients": [{"email": "a@b.c"}], "gmail_thread_id": "has spaces"},
        {"subject": 5, "recipients": [{"email": "a@b.c"}]},
    ],
)
def test_invalid_messages_say_what_is_wrong(client, rep, body):
    response = client.post("/api/v1/messages", json=body, headers=auth(rep[1]))
    assert_error(response, 400, "invalid_request")
    assert response.json["details"]


def test_too_many_threads_are_refused(client, rep):
    body = {"thread_ids": [f"t{i}" for i in range(501)]}
    assert_error(
        client.post("/api/v1/threads/status", json=body, headers=auth(rep[1])),
        400,
        "invalid_request",
    )


def test_another_accounts_message_is_not_found(client, make_user):
    _, mine = make_user("rep@acme.test", "Acme")
    _, theirs = make_user("rep@globex.test", "Globex")
    created = client.post(
        "/api/v1/messages", json=MESSAGE | {"gmail_thread_id": "t1"}, headers=auth(mine)
    ).json
    mid = created["id"]
    assert_error(client.get(f"/api/v1/messages/{mid}", headers=auth(theirs)), 404, "not_found")
    assert_error(
        client.post(f"/api/v1/messages/{mid}/self-view", json={}, headers=auth(theirs)),
        404,
        "not_found",
    )
    status = client.post(
        "/api/v1/threads/status", json={"thread_ids": ["t1"]}, headers=auth(theirs)
    )
    assert status.json == {"threads": {}}
    taken = client.post("/api/v1/messages", json=MESSAGE | {"id": mid}, headers=auth(theirs))
    free = signing.new_message_id()
    unused = client.post("/api/v1/messages", json=MESSAGE | {"id": free}, headers=auth(theirs))
    assert_error(taken, 400, "invalid_id")  # not made with their key: existence never looked up
    assert (taken.status_code, taken.json["message"].replace(mid, free)) == (
        unused.status_code, unused.json["message"],
    )  # fmt: skip


def test_a_message_id_is_accepted_only_when_made_with_the_reps_key(app, client, make_user):
    rep, token = make_user("a@acme.test", "Acme")
    colleague, _ = make_user("b@acme.test", "Acme")
    secrets_ = app.config["LEADCAMP"].link_secrets

    def made_by(user) -> str:
        kid = accounts.current_signing_key(db.session, user).kid
        db.session.commit()
        return signing.bound_message_id(accounts.key_material(secrets_, kid))

    mine, theirs = made_by(rep), made_by(colleague)
    created = client.post("/api/v1/messages", json=MESSAGE | {"id": mine}, headers=auth(token))
    assert created.status_code == 201 and created.json["id"] == mine
    again = client.post("/api/v1/messages", json=MESSAGE | {"id": mine}, headers=auth(token))
    assert again.status_code == 201 and again.json["id"] == mine  # idempotent
    refused = client.post("/api/v1/messages", json=MESSAGE | {"id": theirs}, headers=auth(token))
    assert_error(refused, 400, "invalid_id")
    made = client.post("/api/v1/messages", json=MESSAGE, headers=auth(token)).json["id"]
    kid = accounts.current_signing_key(db.session, rep).kid
    assert signing.is_bound(accounts.key_material(secrets_, kid), made)  # the server's own, too


def test_a_rep_sees_only_their_own_messages_and_an_admin_all(client, make_user):
    _, rep_a = make_user("a@acme.test", "Acme")
    _, rep_b = make_user("b@acme.test", "Acme")
    _, admin = make_user("boss@acme.test", "Acme", admin=True)
    mid = client.post("/api/v1/messages", json=MESSAGE, headers=auth(rep_a)).json["id"]
    assert client.get(f"/api/v1/messages/{mid}", headers=auth(rep_b)).status_code == 404
    assert client.get(f"/api/v1/messages/{mid}", headers=auth(admin)).status_code == 200


def test_unknown_api_paths_answer_json(client, rep):
    assert_error(client.get("/api/v1/nothing-here", headers=auth(rep[1])), 404, "not_found")
    assert_error(client.delete("/api/v1/me", headers=auth(rep[1])), 405, "method_not_allowed")
