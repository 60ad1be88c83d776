"""Google sign-in and Gmail connection: the whole OAuth round trip through the test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from server.accounts import team
from server.extensions import db
from server.models import GmailMailbox, OAuthState, User
from tests.support import auth
from tests.support.admin import csrf_from
from tests.support.google import METADATA, SEND, SIGN_IN, callback, start, with_google


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return with_google(settings)


def test_sign_in_round_trip_with_state_and_pkce(client, google, make_user):
    make_user("rep@acme.test")
    assert b'href="/auth/google/login"' in client.get("/auth/login").data
    url = start(client)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://accounts.google.com/o/oauth2/auth?")
    assert query["scope"] == [
        "openid https://www.googleapis.com/auth/userinfo.email "
        "https://www.googleapis.com/auth/userinfo.profile"
    ]
    assert query["code_challenge_method"] == ["S256"] and query["access_type"] == ["online"]
    assert query["redirect_uri"] == ["http://track.test/auth/google/callback"]
    [pending] = db.session.query(OAuthState).all()
    assert pending.state == query["state"][0] and len(pending.code_verifier) >= 43
    with client.session_transaction() as cookie:
        assert pending.code_verifier not in str(dict(cookie))

    response = callback(client, google.consent(url))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    # Google only accepted the code with the verifier matching the URL's challenge.
    assert google.token_requests[0]["code_verifier"] == pending.code_verifier
    assert client.get("/").status_code == 200
    assert db.session.query(OAuthState).count() == 0


def test_an_unknown_address_is_refused_even_on_a_fresh_server(client, google, make_user):
    url = start(client)
    first = callback(client, google.consent(url, email="founder@new.test"))
    assert first.status_code == 403  # the first admin comes from `bootstrap`, never sign-in
    assert db.session.query(User).count() == 0

    make_user("founder@new.test")
    url = start(client)
    refused = callback(client, google.consent(url, email="stranger@else.test"))
    assert refused.status_code == 403
    assert b"ask your admin for an invite" in refused.data.lower()
    assert db.session.query(User).count() == 1


def test_an_invitation_is_accepted_with_the_invited_google_account(app, client, google, make_user):
    admin, _ = make_user("boss@acme.test", admin=True)
    secret = app.config["LEADCAMP"].secret_key
    _, token = team.invite(db.session, secret, admin, "new@acme.test", "rep")
    db.session.commit()
    page = client.get(f"/admin/invitations/{token}")
    assert f"/auth/google/login?invitation={token}".encode() in page.data

    url = start(client, f"/auth/google/login?invitation={token}")
    other = callback(client, google.consent(url, email="someone@else.test"))
    assert other.status_code == 403 and b"new@acme.test" in other.data
    assert db.session.scalar(select(User).where(User.email == "new@acme.test")) is None

    url = start(client, f"/auth/google/login?invitation={token}")
    joined = callback(client, google.consent(url, email="new@acme.test"))
    assert joined.status_code == 302
    member = db.session.scalar(select(User).where(User.email == "new@acme.test"))
    assert (member.account_id, member.role) == (admin.account_id, "rep")
    assert client.get("/").status_code == 200  # signed in

    replay = app.test_client()  # the member again, later: an ordinary sign-in now
    url = start(replay, f"/auth/google/login?invitation={token}")
    assert callback(replay, google.consent(url, email="new@acme.test")).status_code == 302
    assert db.session.query(User).filter_by(email="new@acme.test").count() == 1  # not twice


def test_an_unverified_or_deactivated_address_cannot_sign_in(client, google, make_user):
    user, _ = make_user("rep@acme.test")
    url = start(client)
    assert callback(client, google.consent(url, verified=False)).status_code == 403
    user.active = False
    db.session.commit()
    url = start(client)
    assert callback(client, google.consent(url)).status_code == 403
    assert client.get("/").status_code == 302  # still signed out


def test_state_mismatch_is_refused(client, google, make_user):
    make_user()
    url = start(client)
    query = google.consent(url).replace("state=", "state=forged")
    response = callback(client, query)
    assert response.status_code == 400 and b"does not belong" in response.data
    assert google.calls["token"] == 0


def test_a_state_from_another_browser_is_refused(app, google, make_user):
    make_user()
    url = start(app.test_client())
    response = callback(app.test_client(), google.consent(url))
    assert response.status_code == 400 and google.calls["token"] == 0


def test_two_round_trips_started_in_one_browser_both_work(client, google, make_user):
    make_user()
    first, second = start(client), start(client)
    assert callback(client, google.consent(second)).status_code == 302
    assert callback(client, google.consent(first)).status_code == 302


def test_missing_or_expired_verifier_is_refused(client, google, make_user):
    make_user()
    url = start(client)
    db.session.query(OAuthState).delete()
    db.session.commit()
    missing = callback(client, google.consent(url))
    assert missing.status_code == 400 and b"start again" in missing.data.lower()

    url = start(client)
    pending = db.session.query(OAuthState).one()
    pending.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    expired = callback(client, google.consent(url))
    assert expired.status_code == 400 and b"expired" in expired.data
    assert google.calls["token"] == 0


def test_denied_consent_says_so(client, google, make_user):
    make_user()
    url = start(client)
    state = parse_qs(urlsplit(url).query)["state"][0]
    response = callback(client, f"error=access_denied&state={state}")
    assert response.status_code == 403 and b"You declined" in response.data
    assert db.session.query(OAuthState).count() == 0 and google.calls["token"] == 0


def test_a_replayed_callback_is_refused(client, google, make_user):
    make_user()
    url = start(client)
    query = google.consent(url)
    assert callback(client, query).status_code == 302
    with client.session_transaction() as cookie:
        cookie["google_oauth_state"] = parse_qs(query)["state"]  # even with the cookie back
    replay = callback(client, query)
    assert replay.status_code == 400 and b"already used" in replay.data
    assert google.calls["token"] == 1


def sign_in(client, google, make_user, email="rep@acme.test"):
    user, token = make_user(email)
    assert callback(client, google.consent(start(client))).status_code == 302
    return user, token


def test_connect_gmail_stores_encrypted_tokens_and_me_shows_it(client, google, make_user):
    _, token = sign_in(client, google, make_user)
    assert client.get("/api/v1/me", headers=auth(token)).json["gmail"] == {
        "connected": False,
        "status": "not_connected",
        "health": "not_connected",
        "email": None,
        "scopes": [],
        "last_synced_at": None,
        "connect_url": "http://track.test/auth/google",
    }
    url = start(client, "/auth/google/connect")
    query = parse_qs(urlsplit(url).query)
    assert METADATA in query["scope"][0] and SEND not in query["scope"][0]
    assert query["include_granted_scopes"] == ["true"] and query["prompt"] == ["consent"]
    assert query["access_type"] == ["offline"]
    assert query["login_hint"] == ["rep@acme.test"]
    response = callback(client, google.consent(url))
    assert response.status_code == 302 and response.headers["Location"] == "/auth/google"

    [refresh] = [t for t in google.refresh_tokens if google.refresh_tokens[t].count("gmail")]
    row = db.session.execute(text("SELECT * FROM gmail_mailboxes")).mappings().one()
    assert not any(refresh in str(value) for value in row.values())
    access = [t for t in google.access_tokens if any(t in str(v) for v in row.values())]
    assert access == []
    me = client.get("/api/v1/me", headers=auth(token)).json["gmail"]
    assert me == {
        "connected": True,
        "status": "ok",
        "health": "ok",
        "email": "rep@acme.test",
        "scopes": sorted([*SIGN_IN, METADATA]),
        "last_synced_at": None,
        "connect_url": "http://track.test/auth/google",
    }
    page = client.get("/auth/google")
    assert (
        b"Read your Gmail messages&#39; headers" in page.data and b"Gmail is connected" in page.data
    )


def test_the_connection_page_says_when_a_reconnect_is_needed(app, client, google, make_user):
    from server.gmail.jobs import sync_now

    sign_in(client, google, make_user)
    callback(client, google.consent(start(client, "/auth/google/connect")))
    google.revoke_all()
    db.session.commit()
    assert sync_now(app, db.session.query(GmailMailbox).one().id) == {"mode": "reconnect_needed"}
    page = client.get("/auth/google")
    assert b"Reconnect needed" in page.data and b'href="/auth/google/connect"' in page.data


def test_partial_consent_without_gmail_connects_nothing(client, google, make_user):
    sign_in(client, google, make_user)
    url = start(client, "/auth/google/connect")
    response = callback(client, google.consent(url, granted=SIGN_IN))
    assert response.status_code == 403 and b"Gmail access not granted" in response.data
    assert db.session.query(GmailMailbox).count() == 0


def test_sending_asks_for_gmail_send_and_a_refusal_is_shown(client, google, make_user):
    user, token = sign_in(client, google, make_user)
    user.account.sending_enabled = True
    db.session.commit()
    url = start(client, "/auth/google/connect")
    assert SEND in parse_qs(urlsplit(url).query)["scope"][0]
    callback(client, google.consent(url, granted=[*SIGN_IN, METADATA]))
    assert b"sending was not allowed" in client.get("/auth/google").data
    assert SEND not in client.get("/api/v1/me", headers=auth(token)).json["gmail"]["scopes"]


def test_disconnect_revokes_at_google_and_forgets(client, google, make_user):
    sign_in(client, google, make_user)
    callback(client, google.consent(start(client, "/auth/google/connect")))
    [refresh] = [t for t in google.refresh_tokens if "gmail" in google.refresh_tokens[t]]
    page = client.get("/auth/google")
    assert page.status_code == 200
    response = client.post("/auth/google/disconnect", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert google.revoked == [refresh]
    assert db.session.query(GmailMailbox).count() == 0


def test_connecting_another_gmail_address_revokes_the_previous_grant(client, google, make_user):
    sign_in(client, google, make_user)
    callback(client, google.consent(start(client, "/auth/google/connect")))
    [old] = [t for t in google.refresh_tokens if "gmail" in google.refresh_tokens[t]]
    url = start(client, "/auth/google/connect")
    callback(client, google.consent(url, email="ana.private@gmail.test"))
    assert google.revoked == [old]
    box = db.session.query(GmailMailbox).one()
    assert box.email == "ana.private@gmail.test" and box.history_id is None


def test_without_google_every_page_says_so_and_magic_links_still_work(app, make_user):
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(
        google_client_id="", google_client_secret=""
    )
    client = app.test_client()
    for path in ("/auth/google/login", "/auth/google/callback?state=x&code=y"):
        response = client.get(path)
        assert response.status_code == 503 and b"Google is not configured" in response.data
    assert b"Google sign-in is not configured" in client.get("/auth/login").data
    user, _ = make_user()
    from server.accounts import users as accounts

    token = accounts.magic_link_token(app.config["SECRET_KEY"], user)
    page = client.get(f"/auth/magic/{token}")
    signed_in = client.post(f"/auth/magic/{token}", data={"csrf_token": csrf_from(page.text)})
    assert signed_in.status_code == 302
    assert client.get("/auth/google/connect").status_code == 503
    assert b"Google is not configured" in client.get("/auth/google").data
