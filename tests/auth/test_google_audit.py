"""Google sign-ins and Gmail connections and disconnections are in the audit log."""

from __future__ import annotations

import pytest

from server.common import audit
from server.extensions import db
from tests.support.admin import csrf_from
from tests.support.google import callback, start, with_google


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return with_google(settings)


def test_google_sign_in_connect_and_disconnect_are_audited(client, google, make_user):
    user, _ = make_user("rep@acme.test")
    assert callback(client, google.consent(start(client))).status_code == 302
    assert (
        callback(client, google.consent(start(client, "/auth/google/connect"))).status_code == 302
    )
    page = client.get("/auth/google")
    client.post("/auth/google/disconnect", data={"csrf_token": csrf_from(page.text)})
    entries = audit.search(db.session, user.account_id)
    actions = [(e.action, e.detail.split(" ")[0]) for e in reversed(entries)]
    assert [a for a in actions if a[0] in ("sign_in", "gmail.connect", "gmail.disconnect")] == [
        ("sign_in", "google"),
        ("gmail.connect", "https://www.googleapis.com/auth/gmail.metadata"),
        ("gmail.disconnect", ""),
    ]
