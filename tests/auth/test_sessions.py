"""Sign-out, lifetime and remember-me cookies: a copied session cookie dies with its session."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask_login.utils import encode_cookie

from server.accounts import users as accounts
from server.extensions import db
from tests.support.admin import csrf_from, sign_in

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")  # no user cached in g

HOUR = 3600


@pytest.fixture
def rep(app):
    """A rep of Acme, not signed in anywhere."""
    user = accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    return user


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client) -> bool:
    """Whether `client`'s session still opens the signed-in home page."""
    response = client.get("/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/auth/login")
        return False
    assert response.status_code == 200 and "rep@acme.test" in response.text
    return True


def re_sign(client) -> None:
    """Change the session, as a flashed message does: Flask signs the cookie again, now."""
    with client.session_transaction() as cookie:
        cookie["_flashes"] = [("message", "re-signed now")]


def test_signing_out_ends_a_copied_cookie_too(app, rep):
    browser = sign_in(app.test_client(), app.config["SECRET_KEY"], rep)
    thief = copy_of(app, browser)
    assert signed_in(browser) and signed_in(thief)
    browser.post("/auth/logout", data={"csrf_token": csrf_from(browser.get("/").text)})
    assert not signed_in(browser)
    assert not signed_in(thief)
    # Nor can the copy connect the extension: the connect page wants a live session too.
    challenge = "x" * 43
    page = thief.get(f"/auth/extension/connect?challenge={challenge}")
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/login")
    # Signing in afresh works: sign-out ends the sessions, not the user.
    assert signed_in(sign_in(app.test_client(), app.config["SECRET_KEY"], rep))


def test_a_session_ends_its_lifetime_after_sign_in_even_when_re_signed(app, rep, monkeypatch):
    lifetime = app.config["LEADCAMP"].session_lifetime_hours * HOUR
    signed_at = time.time()
    browser = sign_in(app.test_client(), app.config["SECRET_KEY"], rep)
    # The clock moves on; no sleeping. Flask re-signs a changed session with the new time, so the
    # cookie alone would look fresh: the sign-in time in the session is what expires.
    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime - HOUR)
    assert signed_in(browser)
    re_sign(browser)
    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime + 60)
    assert not signed_in(browser)


def test_the_lifetime_is_the_configured_one(app, rep, monkeypatch):
    # SESSION_LIFETIME_HOURS=1 becomes this (tests/test_config.py).
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(hours=1))
    signed_at = time.time()
    browser = sign_in(app.test_client(), app.config["SECRET_KEY"], rep)
    monkeypatch.setattr(time, "time", lambda: signed_at + 50 * 60)
    assert signed_in(browser)
    re_sign(browser)
    monkeypatch.setattr(time, "time", lambda: signed_at + HOUR + 60)
    assert not signed_in(browser)


def test_a_remember_me_cookie_signs_nobody_in(app, rep):
    # The app never issues one; one made with the secret key must not bypass the session's checks.
    browser = app.test_client()
    browser.set_cookie("remember_token", encode_cookie(str(rep.id)))
    assert not signed_in(browser)
