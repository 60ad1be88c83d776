"""Replies and bounces are true: only a recipient's answer is a reply, an out-of-office answer
is an auto-reply, a reply Gmail files in a new thread is found, a delay notice is no bounce, and
a server reply answers the thread's last real message (never a draft or a trashed one); the
thread status the receipts read says bounced and replied, and when."""

from __future__ import annotations

import time

import pytest

from server.extensions import db
from server.messages import activity
from server.models import Event, MessageSummary
from server.models.base import iso
from tests.support import auth
from tests.support.google import METADATA, RFC_ID, SEND, SIGN_IN, connect_mailbox, run_sync
from tests.support.google import with_google as google_settings
from tests.support.jobs import follow


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return google_settings(settings)


@pytest.fixture
def sync(app, mailbox):
    """Run one sync as the job does; the test's session then sees the results."""
    return lambda: run_sync(app, mailbox)


def answer(**extra) -> dict:
    """Jane's answer to the reported message, as Gmail's metadata shows its headers."""
    return {
        "From": "Jane Doe <jane@example.com>",
        "To": "rep@acme.test",
        "Subject": "Re: Quick question",
        "Message-ID": "<jane-1@example.com>",
        "In-Reply-To": RFC_ID,
        "References": RFC_ID,
    } | extra


def kinds() -> list[str]:
    return [e.kind for e in db.session.query(Event).order_by(Event.occurred_at)]


def test_a_colleague_writing_in_the_thread_is_not_the_leads_reply(sync, reported, google):
    mid, thread = reported
    sync()
    google.add_message(answer(From="Max Colleague <max@acme.test>", To="jane@example.com"), thread)
    google.add_message(answer(From="Someone <someone@elsewhere.test>"), thread)
    assert sync()["replies"] == 0 and kinds() == []
    # The recipient, under another capitalisation of her address, is the lead replying.
    google.add_message(answer(From="Jane Doe <Jane@EXAMPLE.com>"), thread)
    assert sync()["replies"] == 1 and kinds() == ["reply"]
    assert db.session.get(MessageSummary, mid).replies == 1


@pytest.mark.parametrize(
    "header",
    [
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"X-Auto-Response-Suppress": "All"},
        {"Auto-Submitted": "auto-replied"},
    ],
    ids=lambda h: "-".join(f"{k}:{v}" for k, v in h.items()),
)
def test_an_out_of_office_answer_is_an_auto_reply_not_a_reply(sync, reported, google, header):
    mid, thread = reported
    sync()
    google.add_message(answer(Subject="Automatic reply: Quick question", **header), thread)
    assert sync()["replies"] == 0
    [event] = db.session.query(Event).all()
    assert (event.kind, event.verdict, event.message_id) == ("auto_reply", "machine", mid)
    summary = db.session.get(MessageSummary, mid)
    assert summary is None or (summary.replies == 0 and summary.status != "replied")


def test_a_reply_gmail_files_in_a_new_thread_is_found_by_its_references(sync, reported, google):
    mid, _thread = reported
    sync()
    google.add_message(answer(Subject="Quick question (changed subject)"), "18c0000000000bbb")
    assert sync()["replies"] == 1
    [event] = db.session.query(Event).all()
    assert (event.kind, event.message_id) == ("reply", mid)


DELAY = {
    "From": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    "To": "rep@acme.test",
    "Subject": "Delivery Status Notification (Delay)",
    "Content-Type": 'multipart/report; boundary="000"; report-type=delivery-status',
    "Auto-Submitted": "auto-replied",
    "References": RFC_ID,
    "In-Reply-To": RFC_ID,
}


def test_a_delay_notice_is_not_a_bounce_and_a_failure_is(sync, reported, google):
    _mid, thread = reported
    sync()
    google.add_message(DELAY, thread)
    result = sync()
    assert (result["bounces"], result["replies"]) == (0, 0) and kinds() == []
    failure = DELAY | {
        "Subject": "Delivery Status Notification (Failure)",
        "X-Failed-Recipients": "jane@example.com",
    }
    google.add_message(failure, thread)
    assert sync()["bounces"] == 1 and kinds() == ["bounce"]


@pytest.mark.parametrize("label", ["DRAFT", "TRASH"])
def test_a_server_reply_answers_the_last_real_message_not_a_draft_or_trash(
    client, app, rep, google, label
):
    rep[0].account.sending_enabled = True
    db.session.commit()
    connect_mailbox(app, rep[0], google, (*SIGN_IN, METADATA, SEND))
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
    google.add_message(
        {"Subject": "Re: Quick question", "Message-ID": "<draft@mail.gmail.com>"},
        first,
        labels=(label,),
    )
    body = {
        "recipients": [{"email": "jane@example.com"}],
        "html": "<p>Following up</p>",
        "thread_id": first,
    }
    response = client.post("/api/v1/messages/send", json=body, headers=auth(rep[1]))
    run = follow(client, response, auth(rep[1]))
    assert run["status"] == "succeeded", run
    [sent] = google.sent
    assert sent["mime"]["In-Reply-To"] == "<b@example.com>"
    assert sent["mime"]["References"] == "<a@mail.gmail.com> <b@example.com>"


def thread_status(client, rep, thread) -> dict:
    """The thread's one tracked message as the extension's receipts read it."""
    asked = {"thread_ids": [thread]}
    status = client.post("/api/v1/threads/status", json=asked, headers=auth(rep[1]))
    [message] = status.json["threads"][thread]
    return message


def test_a_bounce_gmail_sync_records_shows_as_bounced_in_the_thread_status(
    client, rep, sync, reported, google
):
    _mid, thread = reported
    sync()
    assert thread_status(client, rep, thread)["status"] == "sent"
    failure = DELAY | {
        "Subject": "Delivery Status Notification (Failure)",
        "X-Failed-Recipients": "jane@example.com",
    }
    google.add_message(failure, thread)
    assert sync()["bounces"] == 1
    [bounce] = db.session.query(Event).all()
    status = thread_status(client, rep, thread)
    assert (status["status"], status["bounced"], status["bounces"]) == ("bounced", True, 1)
    assert status["bounced_at"] == iso(bounce.occurred_at)
    assert (status["opens"], status["replied"]) == (0, False)

    # An out-of-office answer is no reply; the lead's own answer is, and it outranks the bounce.
    google.add_message(answer(Subject="Automatic reply", **{"X-Autoreply": "yes"}), thread)
    sync()
    assert thread_status(client, rep, thread)["replied"] is False
    google.add_message(answer(**{"Message-ID": "<jane-2@example.com>"}), thread)
    sync()
    reply = db.session.query(Event).filter_by(kind="reply").one()
    status = thread_status(client, rep, thread)
    assert (status["status"], status["replied"], status["bounced"]) == ("replied", True, True)
    assert status["last_reply_at"] == iso(reply.occurred_at)


def test_the_leads_reply_reaches_the_reps_notifications_once(client, rep, sync, reported, google):
    """A reply's event id starts with the time it was recorded, like a hit's, so the feed (which
    hands ids out in arrival order) reaches it; a full resync replaying it adds nothing."""
    user, token = rep
    _mid, thread = reported
    sync()
    cursor = client.get("/api/v1/activity", headers=auth(token)).json["cursor"]
    google.add_message(answer(), thread)
    assert sync()["replies"] == 1
    settled = time.time_ns() + int((activity.SETTLE_SECONDS + 1) * 1e9)
    feed = activity.feed(db.session, user, cursor, now_ns=settled)
    assert [(e["kind"], e["subject"]) for e in feed["events"]] == [("reply", "Quick question")]

    google.oldest_history = google.history_id + 1  # Gmail forgot the position: full resync
    assert sync()["mode"] == "full"
    assert kinds() == ["reply"]
    later = settled + int(60e9)
    assert activity.feed(db.session, user, feed["cursor"], now_ns=later)["events"] == []
