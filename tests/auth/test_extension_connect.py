"""Connecting the extension: sign in, confirm, a one-time code in the fragment, PKCE exchange."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from server.accounts import connect as extension_connect
from server.accounts import users as accounts
from server.extensions import db
from server.models import ApiToken, ConnectCode
from tests.auth.test_magic_link import sign_in
from tests.support import auth
from tests.support.admin import csrf_from
from tests.support.google import callback, start, with_google

VERIFIER = secrets.token_urlsafe(48)
CHALLENGE = extension_connect.challenge_of(VERIFIER)


@pytest.fixture
def settings(settings):
    """With a Google client configured, so both ways of signing in are there."""
    return with_google(settings)


def connect(client) -> str:
    """Confirm on the connect page; the code from the fragment of the redirect."""
    page = client.get(f"/auth/extension/connect?challenge={CHALLENGE}")
    assert page.status_code == 200 and "rep@acme.test" in page.text
    answer = client.post(
        "/auth/extension/connect", data={"csrf_token": csrf_from(page.text), "challenge": CHALLENGE}
    )
    assert answer.status_code == 302
    path, _, fragment = answer.headers["Location"].partition("#code=")
    assert path == "/auth/extension/connected" and "?" not in path
    return fragment


def test_sign_in_leads_back_to_the_connect_page_and_the_code_buys_one_token(client, app, rep):
    user, _ = rep
    first = client.get(f"/auth/extension/connect?challenge={CHALLENGE}")
    assert first.status_code == 302 and first.headers["Location"].startswith("/auth/login")
    signed_in = sign_in(client, accounts.magic_link_token(app.config["SECRET_KEY"], user))
    assert signed_in.headers["Location"] == f"/auth/extension/connect?challenge={CHALLENGE}"
    code = connect(client)
    assert db.session.query(ConnectCode).one().digest != code  # only a digest is stored

    body = {"code": code, "verifier": VERIFIER}
    answer = client.post("/api/v1/extension/token", json=body)
    assert answer.status_code == 200, answer.json
    assert answer.json["user"]["email"] == "rep@acme.test"
    token = answer.json["token"]
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    again = client.post("/api/v1/extension/token", json=body)
    assert again.status_code == 400 and again.json["error"] == "invalid_code"

    out = client.delete("/api/v1/extension/token", headers=auth(token))
    assert out.json == {"revoked": True}
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 401
    assert db.session.query(ApiToken).filter(ApiToken.revoked_at.is_(None)).count() == 1


def test_a_code_needs_its_verifier_and_expires(client, app, rep):
    user, _ = rep
    sign_in(client, accounts.magic_link_token(app.config["SECRET_KEY"], user))
    code = connect(client)
    wrong = client.post(
        "/api/v1/extension/token", json={"code": code, "verifier": secrets.token_urlsafe(48)}
    )
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_code"
    row = db.session.query(ConnectCode).one()
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    late = client.post("/api/v1/extension/token", json={"code": code, "verifier": VERIFIER})
    assert late.status_code == 400 and late.json["error"] == "invalid_code"


def test_bad_requests_get_clear_errors(client, app, rep):
    assert client.get("/auth/extension/connect?challenge=short").status_code == 400
    bad = client.post("/api/v1/extension/token", data="nope", content_type="application/json")
    assert bad.status_code == 400 and bad.json["error"] == "invalid_json"
    missing = client.post("/api/v1/extension/token", json={"code": "x" * 20})
    assert missing.status_code == 400 and missing.json["error"] == "invalid_request"
    assert client.delete("/api/v1/extension/token").status_code == 401


def test_google_sign_in_also_leads_back_to_the_connect_page(client, google, make_user):
    make_user("rep@acme.test")
    first = client.get(f"/auth/extension/connect?challenge={CHALLENGE}")
    assert first.headers["Location"].startswith("/auth/login")
    answer = callback(client, google.consent(start(client)))
    assert answer.headers["Location"] == f"/auth/extension/connect?challenge={CHALLENGE}"
    assert connect(client)
