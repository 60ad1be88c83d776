"""Server-side sending: off by default, checked in the request, sent by a job: one tracked copy
per recipient, replies in a thread, a refused copy leaves no message behind."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest

from server.common import signing
from server.extensions import db
from server.gmail.text import html_to_text
from server.models import Message
from tests.support import auth
from tests.support.google import METADATA, SEND, SIGN_IN, _error, connect_mailbox, with_google
from tests.support.jobs import follow

BODY = {
    "recipients": [
        {"email": "jane@example.com", "name": "Jane Doe"},
        {"email": "juergen@example.de", "name": "Jürgen Groß"},
    ],
    "subject": "Grüße — quick question",
    "html": '<p>Hi, see <a href="https://example.com/pricing">pricing</a>.</p>',
}


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return with_google(settings)


@pytest.fixture
def connect(app, rep, google):
    """Connect the rep's Gmail with the given scopes; returns the mailbox."""

    def make(scopes=(*SIGN_IN, METADATA, SEND)):
        return connect_mailbox(app, rep[0], google, scopes)

    return make


@pytest.fixture
def sending(rep):
    """Turn server-side sending on for the rep's account."""
    rep[0].account.sending_enabled = True
    db.session.commit()


def test_sending_is_off_by_default(client, rep, connect, google):
    connect()
    response = client.post("/api/v1/messages/send", json=BODY, headers=auth(rep[1]))
    assert response.status_code == 403 and response.json["error"] == "sending_disabled"
    assert not google.sent and db.session.query(Message).count() == 0


def test_sending_needs_a_connected_mailbox_with_the_send_scope(client, rep, connect, sending):
    response = client.post("/api/v1/messages/send", json=BODY, headers=auth(rep[1]))
    assert response.status_code == 409 and response.json["error"] == "gmail_not_connected"
    connect((*SIGN_IN, METADATA))
    response = client.post("/api/v1/messages/send", json=BODY, headers=auth(rep[1]))
    assert response.status_code == 409 and response.json["error"] == "missing_scope"


def test_bad_bodies_get_a_clear_error(client, rep, connect, sending):
    connect()
    bad = client.post(
        "/api/v1/messages/send",
        data="{nope",
        headers=auth(rep[1]) | {"Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json["error"] == "invalid_json"
    no_subject = client.post(
        "/api/v1/messages/send", json=BODY | {"subject": ""}, headers=auth(rep[1])
    )
    assert no_subject.status_code == 400 and "subject" in no_subject.json["message"]


def send(client, token, body, status=202):
    """POST a send; with a 202, run the queue as the worker would and return the run."""
    response = client.post("/api/v1/messages/send", json=body, headers=auth(token))
    assert response.status_code == status, response.json
    return follow(client, response, auth(token)) if status == 202 else response.json


def test_one_tracked_copy_per_recipient(client, app, rep, connect, sending, google):
    connect()
    run = send(client, rep[1], BODY)
    assert run["kind"] == "gmail_send" and run["status"] == "succeeded", run
    assert run["progress"] == {"total": 2, "done": 2, "failed": 0} and run["error"] is None
    copies = run["items"]
    assert [c["email"] for c in copies] == ["jane@example.com", "juergen@example.de"]
    assert [c["status"] for c in copies] == ["sent", "sent"] and run["result"] == {"sent": 2}
    assert len({c["id"] for c in copies}) == 2 and google.calls["messages.send"] == 2
    for copy, sent in zip(copies, google.sent, strict=True):
        mime = sent["mime"]
        assert mime.get_content_type() == "multipart/alternative"
        assert str(make_header(decode_header(mime["Subject"]))) == BODY["subject"]
        assert mime["Subject"].isascii()  # UTF-8 as an RFC 2047 encoded word
        assert copy["email"].split("@")[0] in str(make_header(decode_header(mime["To"])))
        plain, html = mime.get_payload()
        assert (
            plain.get_content_type() == "text/plain"
            and "pricing" in plain.get_payload(decode=True).decode()
        )
        html_text = html.get_payload(decode=True).decode("utf-8")
        # This copy's own pixel and links: opens and clicks belong to this recipient alone.
        pixel = re.search(r'src="http://track.test/o/([^."]+)\.([^."]+)\.([^."]+)\.gif"', html_text)
        assert pixel and pixel.group(2) == copy["id"]
        assert signing.verify_pixel(("test-link-secret",), ".".join(pixel.groups()))
        assert f"/c/{pixel.group(1)}.{copy['id']}." in html_text
        message = db.session.get(Message, copy["id"])
        assert message.gmail_message_id == sent["id"] == copy["gmail_message_id"]
        assert (
            message.rfc_message_id == mime["Message-ID"] and message.gmail_thread_id == sent["id"]
        )


def test_a_reply_goes_into_the_thread_with_its_headers(client, rep, connect, sending, google):
    connect()
    first = google.add_message(
        {"Subject": "Quick question", "Message-ID": "<a@mail.gmail.com>"}, labels=("SENT",)
    )
    google.add_message(
        {
            "Subject": "Re: Quick question",
            "Message-ID": "<b@example.com>",
            "References": "<a@mail.gmail.com>",
        },
        first,
    )
    body = {"recipients": BODY["recipients"][:1], "html": "<p>Following up</p>", "thread_id": first}
    run = send(client, rep[1], body)
    assert run["status"] == "succeeded", run
    [sent] = google.sent
    assert sent["threadId"] == first
    assert sent["mime"]["Subject"] == "Re: Quick question"
    assert sent["mime"]["In-Reply-To"] == "<b@example.com>"
    assert sent["mime"]["References"] == "<a@mail.gmail.com> <b@example.com>"
    assert db.session.get(Message, run["items"][0]["id"]).gmail_thread_id == first


def test_a_reply_to_a_thread_gmail_does_not_know_fails_before_sending(
    client, rep, connect, sending, google
):
    connect()
    body = {"recipients": BODY["recipients"][:1], "html": "<p>Hi</p>", "thread_id": "18c0ffee"}
    run = send(client, rep[1], body)
    assert run["status"] == "failed" and run["error"] == "No such thread in your Gmail."
    assert not google.sent and db.session.query(Message).count() == 0


def test_a_refused_copy_records_nothing_as_sent(client, rep, connect, sending, google):
    connect()
    google.fail("messages.send", (400, "Invalid To header", "invalidArgument", "INVALID_ARGUMENT"))
    run = send(client, rep[1], BODY)
    assert run["status"] == "failed" and "jane@example.com" in run["error"]
    assert "Invalid To header" in run["error"]
    assert [(i["email"], i["status"]) for i in run["items"]] == [
        ("jane@example.com", "failed"),
        ("juergen@example.de", "not_sent"),
    ]
    assert all(i["id"] for i in run["items"]) and run["progress"]["failed"] == 1
    assert db.session.query(Message).count() == 0 and not google.sent
    assert google.calls["messages.send"] == 1


def test_a_partial_send_names_the_sent_copies_and_a_retry_sends_only_the_rest(
    client, rep, connect, sending, google
):
    connect()
    route, calls = google.route, []

    def second_send_refused(method, path, query, body, scope):
        """Gmail refuses the second copy once."""
        if path.endswith("messages/send"):
            calls.append(path)
            if len(calls) == 2:
                return _error(400, "Invalid To header", "invalidArgument", "INVALID_ARGUMENT")
        return route(method, path, query, body, scope)

    google.route = second_send_refused
    run = send(client, rep[1], BODY)
    assert run["status"] == "failed" and "1 of 2 copies were sent" in run["error"]
    first, second = run["items"]
    assert (first["status"], second["status"]) == ("sent", "failed")
    assert db.session.get(Message, first["id"]).gmail_message_id == google.sent[0]["id"]
    assert db.session.get(Message, second["id"]) is None

    again = BODY | {
        "recipients": [
            r | {"id": d["id"]} for r, d in zip(BODY["recipients"], (first, second), strict=True)
        ]
    }
    retry = send(client, rep[1], again)
    assert retry["status"] == "succeeded", retry
    assert [i["id"] for i in retry["items"]] == [first["id"], second["id"]]
    assert len(google.sent) == 2  # the first copy was not sent twice
    assert db.session.query(Message).count() == 2


def test_a_recipient_id_used_by_another_message_is_refused_before_sending(
    app, client, rep, connect, sending, google, make_user
):
    connect()
    _other, other_token = make_user("colleague@acme.test")
    taken = client.post(
        "/api/v1/messages",
        json={"subject": "x", "recipients": [{"email": "jane@example.com"}]},
        headers=auth(other_token),
    ).json["id"]
    body = BODY | {"recipients": [BODY["recipients"][0] | {"id": taken}]}
    response = client.post("/api/v1/messages/send", json=body, headers=auth(rep[1]))
    assert response.status_code == 400 and response.json["error"] == "invalid_id"
    mine = client.post(
        "/api/v1/messages",
        json={"subject": "x", "recipients": [{"email": "jane@example.com"}]},
        headers=auth(rep[1]),
    ).json["id"]
    body = BODY | {"recipients": [BODY["recipients"][1] | {"id": mine}]}  # a copy to another
    response = client.post("/api/v1/messages/send", json=body, headers=auth(rep[1]))
    assert response.status_code == 409 and response.json["error"] == "id_conflict"
    assert not google.sent


def test_a_revoked_grant_stops_sending_and_asks_for_a_reconnect(
    client, rep, connect, sending, google
):
    connect()
    google.revoke_all()
    run = send(client, rep[1], BODY)
    assert run["status"] == "failed" and "Connect Gmail again" in run["error"]
    assert db.session.query(Message).count() == 0 and not google.sent
    me = client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]
    assert me["status"] == "reconnect_needed"
    # Now the request itself says so, before anything is queued.
    refused = send(client, rep[1], BODY, status=409)
    assert refused["error"] == "reconnect_needed"


def test_internationalized_addresses_are_written_as_utf8_headers():
    from server.gmail.send import build_mime

    mail = build_mime(
        ("Ana", "rep@acme.test"),
        ("Jürgen", "jürgen@exämple.de"),
        "Grüße",
        "<p>x</p>",
        "x\n",
        "<id@acme.test>",
        datetime.now(UTC),
        None,
    )
    raw = mail.as_bytes()
    assert "jürgen@xn--exmple-cua.de".encode() in raw and "Grüße".encode() in raw


def test_a_malformed_address_is_refused_before_anything_is_sent(
    client, rep, connect, sending, google
):
    connect()
    body = BODY | {"recipients": [*BODY["recipients"], {"email": "jane@example..com"}]}
    response = client.post("/api/v1/messages/send", json=body, headers=auth(rep[1]))
    assert response.status_code == 400 and response.json["error"] == "invalid_recipient"
    assert not google.sent and db.session.query(Message).count() == 0


def test_a_recipient_listed_twice_gets_one_copy(client, rep, connect, sending, google):
    connect()
    twice = [{"email": "jane@example.com"}, {"email": "Jane@Example.com", "name": "Jane"}]
    run = send(client, rep[1], BODY | {"recipients": twice})
    assert run["status"] == "succeeded" and len(run["items"]) == 1
    assert len(google.sent) == 1


def test_a_non_ascii_reply_goes_out_7bit_with_its_threading_headers(
    client, rep, connect, sending, google
):
    connect()
    first = google.add_message(
        {"Subject": "Köln", "Message-ID": "<a@mail.gmail.com>"}, labels=("SENT",)
    )
    body = {
        "recipients": [{"email": "jane@example.com", "name": "Jürgen"}],
        "html": '<p>Grüße aus Köln, <a href="https://example.com/köln">hier</a></p>',
        "thread_id": first,
    }
    assert send(client, rep[1], body)["status"] == "succeeded"
    [sent] = google.sent
    assert sent["raw"].isascii()  # quoted-printable or base64 bodies, encoded-word headers
    plain, html = sent["mime"].get_payload()
    assert "Grüße aus Köln" in plain.get_payload(decode=True).decode("utf-8")
    assert "Grüße aus Köln" in html.get_payload(decode=True).decode("utf-8")
    stored = {h["name"]: h["value"] for h in google.messages[sent["id"]]["payload"]["headers"]}
    assert stored["In-Reply-To"] == "<a@mail.gmail.com>"
    assert stored["References"] == "<a@mail.gmail.com>"
    assert google.messages[sent["id"]]["threadId"] == first


def test_a_token_refresh_google_fails_is_not_a_reconnect(client, rep, connect, sending, google):
    connect()
    google.expire_access_tokens()
    google.fail("token", (503, "Service unavailable", "backendError", "UNAVAILABLE"), times=10)
    run = send(client, rep[1], BODY)
    assert run["status"] == "failed" and "refresh" in run["error"].lower()
    assert not google.sent and db.session.query(Message).count() == 0
    assert client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]["status"] == "ok"


def test_the_plain_text_part_keeps_each_links_address():
    html = (
        '<p>See <a href="https://example.com/pricing">our pricing</a>, '
        '<a href="https://example.com">https://example.com</a> or '
        '<a href="mailto:sales@acme.test">write</a>.</p>'
    )
    assert html_to_text(html) == (
        "See our pricing (https://example.com/pricing), https://example.com or "
        "write (sales@acme.test).\n"
    )
