"""Server-side sending points tracking at the account's tracking domain, as the extension does."""

from __future__ import annotations

import re

import pytest

from server.common import signing
from server.extensions import db
from tests.support import auth
from tests.support.google import METADATA, SEND, SIGN_IN, connect_mailbox, with_google
from tests.support.jobs import follow


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return with_google(settings)


def test_a_copy_sent_by_the_server_uses_the_accounts_tracking_domain(client, app, rep, google):
    user, token = rep
    user.account.sending_enabled = True
    user.account.tracking_domain = "links.acme.test"
    db.session.commit()
    connect_mailbox(app, user, google, (*SIGN_IN, METADATA, SEND))
    body = {
        "recipients": [{"email": "jane@example.com"}],
        "subject": "Pricing",
        "html": '<p>See <a href="https://example.com/pricing">pricing</a>.</p>',
    }
    response = client.post("/api/v1/messages/send", json=body, headers=auth(token))
    [copy] = follow(client, response, auth(token))["items"]
    html = google.sent[0]["mime"].get_payload()[1].get_payload(decode=True).decode()
    pixel = re.search(r'src="http://links\.acme\.test/o/([^."]+)\.([^."]+)\.([^."]+)\.gif"', html)
    assert pixel and pixel.group(2) == copy["id"]
    assert signing.verify_pixel(("test-link-secret",), ".".join(pixel.groups()))
    assert f"http://links.acme.test/c/{pixel.group(1)}.{copy['id']}." in html
    assert "track.test" not in html
