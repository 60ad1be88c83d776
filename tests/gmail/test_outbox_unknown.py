"""A copy whose send ended unknown is looked up in the rep's sent mail before it is sent again:
found, it is recorded sent; shown absent, it is sent once under its id; when Gmail cannot say,
it is refused (maybe_sent)."""

from __future__ import annotations

import time

import pytest
import requests

from server.extensions import db
from server.models import Message
from tests.support import auth
from tests.support.google import METADATA, SEND, SIGN_IN, connect_mailbox
from tests.support.google import with_google as google_settings
from tests.support.jobs import follow

BODY = {
    "recipients": [{"email": "jane@example.com"}],
    "subject": "Pricing",
    "html": "<p>See our pricing.</p>",
}
BACKEND_ERROR = (503, "Service unavailable", "backendError", "UNAVAILABLE")


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return google_settings(settings)


@pytest.fixture
def mailbox(app, rep, google):
    """The rep may send, from a mailbox that granted sending (and metadata, as connect asks)."""
    rep[0].account.sending_enabled = True
    db.session.commit()
    return connect_mailbox(app, rep[0], google, (*SIGN_IN, METADATA, SEND))


def post(client, token, body=BODY):
    return client.post("/api/v1/messages/send", json=body, headers=auth(token))


def unknown_copy(client, rep, google, lost: bool) -> Message:
    """Send one copy whose outcome stays unknown: Gmail took it and the answer was lost, or
    Google failed on its side without sending."""
    if lost:
        google.lose_answer("messages.send", requests.ReadTimeout("Read timed out."))
    else:
        google.fail("messages.send", BACKEND_ERROR)
    run = follow(client, post(client, rep[1]), auth(rep[1]))
    assert run["status"] == "unknown" and run["items"][0]["status"] == "unknown"
    return db.session.get(Message, run["items"][0]["id"])


def again(copy: Message) -> dict:
    return BODY | {"recipients": [BODY["recipients"][0] | {"id": copy.id}]}


def test_a_copy_gmail_shows_not_sent_is_sent_once_under_its_id(client, rep, mailbox, google):
    copy = unknown_copy(client, rep, google, lost=False)
    assert not google.sent
    run = follow(client, post(client, rep[1], again(copy)), auth(rep[1]))
    assert run["status"] == "succeeded", run
    [sent] = google.sent
    assert run["items"][0]["gmail_message_id"] == sent["id"]
    message = db.session.get(Message, copy.id)
    assert message.gmail_message_id == sent["id"]
    assert message.rfc_message_id == sent["mime"]["Message-ID"]
    html = sent["mime"].get_payload()[1].get_payload(decode=True).decode()
    assert f".{copy.id}." in html  # the same copy: its own pixel
    # Sent now: a third request skips it.
    third = follow(client, post(client, rep[1], again(copy)), auth(rep[1]))
    assert third["items"][0]["status"] == "sent" and len(google.sent) == 1


def test_a_copy_trashed_after_it_went_out_is_found_and_not_sent_again(client, rep, mailbox, google):
    copy = unknown_copy(client, rep, google, lost=True)
    google.trash(google.sent[0]["id"])
    run = follow(client, post(client, rep[1], again(copy)), auth(rep[1]))
    assert run["status"] == "succeeded" and run["items"][0]["status"] == "sent"
    assert google.calls["messages.send"] == 1 and len(google.sent) == 1


@pytest.mark.parametrize(
    "gmail_cannot_say",
    ["lookup-refused", "too-many-sent-since"],
)
def test_a_copy_gmail_cannot_account_for_is_refused_maybe_sent(
    client, rep, mailbox, google, gmail_cannot_say
):
    copy = unknown_copy(client, rep, google, lost=False)
    if gmail_cannot_say == "lookup-refused":
        google.fail("messages.list", (403, "Insufficient Permission", "insufficientPermissions",
                                      "PERMISSION_DENIED"))  # fmt: skip
    else:  # more sent since than the lookup reads: its absence proves nothing
        from server.gmail.send import LOOKUP_SENT

        since = int(time.time() * 1000)
        for n in range(LOOKUP_SENT):
            headers = {"Message-ID": f"<later-{n}@acme.test>"}
            google.add_message(headers, labels=("SENT",), at_ms=since + n)
    run = follow(client, post(client, rep[1], again(copy)), auth(rep[1]))
    assert run["status"] == "unknown" and "maybe_sent" in run["error"]
    assert run["items"][0]["status"] == "unknown"
    assert google.calls["messages.send"] == 1 and not google.sent
    assert db.session.get(Message, copy.id).gmail_message_id is None


def test_a_copy_another_request_holds_is_refused_until_it_ends(client, rep, mailbox, google):
    copy = unknown_copy(client, rep, google, lost=False)
    first = post(client, rep[1], again(copy))
    assert first.status_code == 202  # queued, not run yet
    second = post(client, rep[1], again(copy))
    assert second.status_code == 409 and second.json["error"] == "maybe_sent"
    assert follow(client, first, auth(rep[1]))["status"] == "succeeded"
    assert len(google.sent) == 1
