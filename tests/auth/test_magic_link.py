"""The magic-link sign-in: single use, 15 minutes, spent only by a deliberate POST."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from server.accounts import users as accounts
from server.extensions import db
from tests.support.admin import csrf_from


@pytest.fixture
def admin(app):
    user = accounts.create_user(db.session, "owner@acme.test", "Acme", admin=True)
    db.session.commit()
    return user


def sign_in(client, token: str):
    page = client.get(f"/auth/magic/{token}")
    assert page.status_code == 200
    return client.post(f"/auth/magic/{token}", data={"csrf_token": csrf_from(page.text)})


def test_a_magic_link_signs_in_once(client, app, admin):
    token = accounts.magic_link_token(app.config["SECRET_KEY"], admin)
    assert client.get("/").status_code == 302  # not signed in yet
    response = sign_in(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "owner@acme.test" in home.text and "Acme" in home.text
    client.post("/auth/logout", data={"csrf_token": csrf_from(home.text)})
    again = sign_in(client, token)
    assert again.status_code == 400 and "used already" in again.text
    assert client.get("/").status_code == 302


def test_opening_the_link_does_not_spend_it(client, app, admin):
    token = accounts.magic_link_token(app.config["SECRET_KEY"], admin)
    for _ in range(3):  # mail scanners and previews fetch links
        assert client.get(f"/auth/magic/{token}").status_code == 200
    assert sign_in(client, token).status_code == 302


def test_expired_forged_and_csrf_less_links_fail(client, app, admin, monkeypatch):
    token = accounts.magic_link_token(app.config["SECRET_KEY"], admin)
    assert client.post(f"/auth/magic/{token}").status_code == 400  # no CSRF token
    forged = URLSafeTimedSerializer("wrong", salt="leadcamp.magic-link").dumps(
        {"u": admin.id, "g": 0}
    )
    assert "not valid" in sign_in(client, forged).text
    monkeypatch.setattr(accounts, "MAGIC_LINK_MAX_AGE", -1)
    assert "expired" in sign_in(client, token).text


def test_deactivated_users_cannot_use_their_link(client, app, admin):
    token = accounts.magic_link_token(app.config["SECRET_KEY"], admin)
    admin.active = False
    db.session.commit()
    assert sign_in(client, token).status_code == 400
