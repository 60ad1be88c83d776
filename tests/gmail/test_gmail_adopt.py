"""Adopting tracked mail the extension never reported, by the pixel in its body (gmail.readonly)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from server.accounts import users as accounts
from server.common import signing
from server.extensions import db
from server.models import GmailMailbox, Link, Message
from server.tracking.jobs import settle_pending_hits
from tests.support import auth, click_for, pixel_for
from tests.support.google import (
    METADATA,
    READONLY,
    SIGN_IN,
    connect_mailbox,
    run_sync,
    with_google,
)

SECRET = "test-link-secret"


@pytest.fixture
def settings(settings):
    """Google configured, with body reading for adoption."""
    return with_google(settings).replace(gmail_read_bodies=True)


def connect(app, user, google, scopes):
    """A connected mailbox with the given scopes."""
    return connect_mailbox(app, user, google, scopes, name="")


def unreported_mail(google, kid, mid, secret=SECRET, base="http://track.test"):
    """A tracked message in the rep's Sent folder whose report never reached the server."""
    html = (
        f'<div>Hi Jane, our <a href="{base}'
        + click_for(secret, kid, mid, "https://acme.test/pricing")
        + f'">pricing</a>.</div><img src="{base}'
        + pixel_for(secret, kid, mid)
        + '" width="1" height="1" alt="" />'
    )
    headers = {
        "From": "rep@acme.test",
        "To": "Jane Doe <jane@example.com>",
        "Subject": "Pricing",
        "Message-ID": "<CAF=unreported@mail.gmail.com>",
    }
    return google.add_message(headers, labels=("SENT",), html=html)


def test_an_unreported_tracked_message_is_adopted_under_its_own_id(app, client, rep, kid, google):
    user, token = rep
    box = connect(app, user, google, [*SIGN_IN, READONLY])
    mid = signing.new_message_id()
    client.get(pixel_for(SECRET, kid, mid), headers={"User-Agent": "Mozilla/5.0 (Macintosh)"})
    app.extensions["leadcamp.sink"].flush()
    gmail_id = unreported_mail(google, kid, mid)

    assert run_sync(app, box)["adopted"] == 1
    message = db.session.get(Message, mid)
    assert message.user_id == user.id and message.kid == kid and message.subject == "Pricing"
    assert message.gmail_message_id == gmail_id and message.confirmed_at is not None
    assert message.rfc_message_id == "<CAF=unreported@mail.gmail.com>"
    assert [r.email for r in message.recipients] == ["jane@example.com"]
    assert [link.url for link in db.session.query(Link).all()] == ["https://acme.test/pricing"]
    db.session.commit()  # release SQLite's read snapshot before the job writes
    # The open that arrived before waited for its message; settling counts it as its own.
    assert settle_pending_hits(app)() == 1
    detail = client.get(f"/api/v1/messages/{mid}", headers=auth(token)).json
    assert detail["opens"] == 1

    google.add_message(
        {"From": "jane@example.com", "Subject": "Re: Pricing", "To": "rep@acme.test"}, gmail_id
    )
    assert run_sync(app, box)["replies"] == 1
    assert client.get(f"/api/v1/messages/{mid}", headers=auth(token)).json["status"] == "replied"
    assert run_sync(app, box)["adopted"] == 0


def test_a_pixel_on_the_accounts_tracking_domain_is_adopted(app, rep, kid, google):
    user, _ = rep
    user.account.tracking_domain = "links.acme.test"
    box = connect(app, user, google, [*SIGN_IN, READONLY])
    mid, earlier = signing.new_message_id(), signing.new_message_id()
    unreported_mail(google, kid, mid, base="http://links.acme.test")
    # Mail sent before the domain was set carries PUBLIC_URL's pixel: adopted all the same.
    unreported_mail(google, kid, earlier)
    assert run_sync(app, box)["adopted"] == 2
    message = db.session.get(Message, mid)
    assert message.subject == "Pricing" and db.session.get(Message, earlier) is not None
    assert [link.url for link in message.links] == ["https://acme.test/pricing"]


def test_without_the_readonly_scope_bodies_are_never_asked_for(app, rep, kid, google):
    box = connect(app, rep[0], google, [*SIGN_IN, METADATA])
    unreported_mail(google, kid, signing.new_message_id())
    assert run_sync(app, box)["adopted"] == 0
    assert google.calls["messages.get"] == 1  # headers only: a FULL request would be refused


def test_forged_pixels_and_other_reps_keys_are_not_adopted(app, rep, kid, make_user, google):
    box = connect(app, rep[0], google, [*SIGN_IN, READONLY])
    other, _ = make_user("colleague@acme.test")
    other_kid = accounts.current_signing_key(db.session, other).kid
    db.session.commit()
    unreported_mail(google, kid, signing.new_message_id(), secret="not-our-secret")
    unreported_mail(google, other_kid, signing.new_message_id())
    assert run_sync(app, box)["adopted"] == 0
    assert db.session.query(Message).count() == 0
    assert db.session.get(GmailMailbox, box.id).status == "ok"


def test_connect_asks_for_readonly_when_adoption_is_on(app, client, make_user, google):
    make_user()
    login = client.get("/auth/google/login").headers["Location"]
    client.get("/auth/google/callback?" + google.consent(login))
    url = client.get("/auth/google/connect").headers["Location"]
    scope = parse_qs(urlsplit(url).query)["scope"][0].split()
    # Not metadata besides: while it is granted, Gmail refuses to show any body.
    assert READONLY in scope and METADATA not in scope


def test_a_grant_still_holding_metadata_skips_adoption_and_syncs(app, rep, kid, google):
    """An old grant kept by include_granted_scopes: Gmail answers FULL with 403."""
    box = connect(app, rep[0], google, [*SIGN_IN, METADATA, READONLY])
    unreported_mail(google, kid, signing.new_message_id())
    box.scopes = " ".join([*SIGN_IN, READONLY])  # as if the app believed bodies were readable
    result = run_sync(app, box)
    assert result["mode"] == "full" and result["adopted"] == 0 and result["fetched"] == 1
    box = db.session.get(GmailMailbox, box.id)
    assert box.status == "ok" and box.history_id == str(google.history_id)
    assert google.calls["messages.get"] == 2  # headers, then one body refused (not retried)
