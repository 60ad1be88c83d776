"""Gmail sync against a faked Google: confirmations, replies and bounces exactly once, resyncs,
token refresh, retries and the reconnect-needed path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy import select

from server.extensions import db
from server.jobs import register_tasks
from server.models import Contact, Event, GmailMailbox, Message, MessageSummary
from tests.support import auth
from tests.support.google import (
    NOT_FOUND,
    RATE_LIMITED,
    RFC_ID,
    SENT_HEADERS,
    run_sync,
    with_google,
)


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return with_google(settings)


@pytest.fixture
def sleeps():
    """The backoff pauses the client asked for (recorded, not slept)."""
    return []


@pytest.fixture
def sync(app, mailbox, sleeps):
    """Run one sync as the job does; the test's session then sees the results."""
    return lambda: run_sync(app, mailbox, sleep=sleeps.append)


def reply_headers(**extra) -> dict:
    return {
        "From": "Jane Doe <jane@example.com>",
        "To": "rep@acme.test",
        "Subject": "Re: Quick question",
        "In-Reply-To": RFC_ID,
        "References": RFC_ID,
    } | extra


BOUNCE = {
    "From": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    "To": "rep@acme.test",
    "Subject": "Delivery Status Notification (Failure)",
    "X-Failed-Recipients": "bob@gone.test",
    "Content-Type": 'multipart/report; boundary="000"; report-type=delivery-status',
    "Auto-Submitted": "auto-replied",
    "References": RFC_ID,
}


def test_first_sync_confirms_the_reported_message(sync, reported, google, mailbox):
    mid, thread = reported
    result = sync()
    assert result["mode"] == "full" and result["confirmed"] == 1
    message = db.session.get(Message, mid)
    assert message.gmail_message_id == thread and message.gmail_thread_id == thread
    assert message.rfc_message_id == RFC_ID and message.confirmed_at is not None
    assert message.sent_at == datetime.fromtimestamp(google.epoch_ms / 1000, UTC)
    assert {r.email for r in message.recipients} == {"jane@example.com", "bob@gone.test"}
    # The recipient the report missed is a contact now, like the reported one.
    held = db.session.scalars(select(Contact.email).where(Contact.account_id == message.account_id))
    assert {"jane@example.com", "bob@gone.test"} <= set(held)
    assert db.session.get(GmailMailbox, mailbox.id).history_id == str(google.history_id)
    assert google.calls["getProfile"] == 1 and google.calls["threads.get"] == 1


def test_replies_and_bounces_become_events_exactly_once(sync, reported, google, mailbox):
    mid, thread = reported
    sync()
    before = db.session.get(GmailMailbox, mailbox.id).history_id
    google.add_message(reply_headers(), thread)
    google.add_message(BOUNCE, thread)
    google.add_message(reply_headers(**{"Auto-Submitted": "auto-replied"}), thread)  # away
    other = {"Subject": "Other", "In-Reply-To": "<other@x>", "References": "<other@x>"}
    google.add_message(reply_headers(**other), "18c000000000aaaa")  # untracked thread
    google.add_message({**SENT_HEADERS, "Message-ID": "<x@y>"}, thread, labels=("SENT",))

    result = sync()
    assert (result["mode"], result["replies"], result["bounces"]) == ("incremental", 1, 1)
    assert google.calls["history.list"] == 3  # five records, two per page
    events = db.session.query(Event).order_by(Event.occurred_at).all()
    # The away answer is kept as an auto-reply, not counted as a reply.
    assert [(e.kind, e.message_id) for e in events] == [
        ("reply", mid),
        ("bounce", mid),
        ("auto_reply", mid),
    ]
    summary = db.session.get(MessageSummary, mid)
    assert (summary.replies, summary.bounces, summary.status) == (1, 1, "replied")
    assert summary.counts()["human"] == 0  # replies are not hits

    assert sync()["replies"] == 0
    db.session.get(GmailMailbox, mailbox.id).history_id = before  # as if the last run crashed
    again = sync()
    assert again["replies"] == 0  # seen again, already stored: not recorded twice
    assert db.session.query(Event).count() == 3
    assert db.session.get(MessageSummary, mid).replies == 1


def test_no_engagement_is_recorded_while_tracking_is_off(sync, reported, google, mailbox, rep):
    mid, thread = reported
    sync()
    rep[0].account.tracking_enabled = False
    google.add_message(reply_headers(), thread)
    google.add_message(BOUNCE, thread)
    result = sync()
    assert (result["replies"], result["bounces"]) == (0, 0)
    assert db.session.query(Event).count() == 0
    assert (
        db.session.get(MessageSummary, mid) is None
        or not db.session.get(MessageSummary, mid).replies
    )


@pytest.mark.parametrize("switch", ["account", "rep"])
def test_nothing_is_recorded_for_a_switched_off_account_or_rep(
    sync, reported, google, mailbox, rep, switch
):
    mid, thread = reported
    if switch == "account":
        rep[0].account.tracking_enabled = False
    else:
        rep[0].tracking_enabled = False
    db.session.commit()
    google.add_message(reply_headers(), thread)
    google.add_message(BOUNCE, thread)
    google.calls.clear()

    result = sync()
    message = db.session.get(Message, mid)
    # Gmail's Cc (bob) is neither a recipient nor a contact; the message is not confirmed.
    assert {r.email for r in message.recipients} == {"jane@example.com"}
    assert message.confirmed_at is None and message.gmail_message_id is None
    assert "bob@gone.test" not in set(db.session.scalars(select(Contact.email)))
    assert db.session.query(Event).count() == 0
    assert (
        db.session.get(MessageSummary, mid) is None
        or not db.session.get(MessageSummary, mid).replies
    )
    assert result["mode"] == "off" and result["fetched"] == 0
    assert dict(google.calls) == {"getProfile": 1}  # nothing of the mailbox was read
    assert db.session.get(GmailMailbox, mailbox.id).history_id == str(google.history_id)

    # Switched back on, what happened meanwhile stays unrecorded; what follows is recorded.
    rep[0].account.tracking_enabled, rep[0].tracking_enabled = True, None
    db.session.commit()
    google.add_message(reply_headers(Subject="Re: Quick question, again"), thread)
    result = sync()
    assert (result["replies"], result["bounces"]) == (1, 0)
    assert [e.kind for e in db.session.query(Event)] == ["reply"]


def test_a_mailbox_without_changes_costs_one_history_call(sync, reported, google):
    sync()
    google.calls.clear()
    result = sync()
    assert dict(google.calls) == {"history.list": 1}
    assert result["quota_units"] == 2 and result["fetched"] == 0


def test_an_expired_history_id_means_a_full_resync(sync, reported, google, mailbox):
    sync()
    google.add_message(reply_headers(), reported[1])
    google.oldest_history = google.history_id + 1
    result = sync()
    assert result["mode"] == "full" and result["replies"] == 1
    assert google.calls["getProfile"] == 2


def test_a_rejected_access_token_is_refreshed_and_the_call_repeated(sync, reported, google):
    google.expire_access_tokens()
    assert sync()["confirmed"] == 1
    assert google.calls["token"] == 1
    assert google.token_requests[0]["grant_type"] == "refresh_token"
    google.calls.clear()
    sync()
    assert google.calls["token"] == 0  # the new access token was kept


def test_a_token_refused_inside_a_batch_is_refreshed_once_and_the_batch_rerun(
    sync, reported, google, sleeps
):
    sync()
    google.add_message(reply_headers(), reported[1])
    google.add_message(reply_headers(Subject="Re: Quick question again"), reported[1])
    history = google._history

    def then_expire(query):
        """Answer history.list, then stop honouring the access token (before the batch)."""
        answer = history(query)
        google.expire_access_tokens()
        return answer

    google._history = then_expire
    google.calls.clear()
    result = sync()
    assert result["replies"] == 2 and sleeps == []
    assert google.calls["token"] == 1 and google.calls["batch"] == 2
    assert google.calls["messages.get"] == 2
    assert result["quota_units"] == 2 + 2 * 5  # each part counted once


def test_rate_limits_and_server_errors_are_retried_with_backoff(sync, reported, google, sleeps):
    sync()
    google.add_message(reply_headers(), reported[1])
    google.fail("history.list", RATE_LIMITED)
    google.fail(
        "history.list",
        (503, "The service is currently unavailable.", "backendError", "UNAVAILABLE"),
    )
    google.fail(
        "messages.get",
        (403, "User-rate limit exceeded.", "userRateLimitExceeded", "PERMISSION_DENIED"),
    )
    result = sync()
    assert result["replies"] == 1
    assert len(sleeps) == 3  # two for history.list, one for the batch part retried alone
    assert result["quota_units"] == 2 + 5  # the retried part counts once, like the call


def test_a_persistent_error_fails_the_run_and_keeps_the_position(app, sync, reported, google):
    sync()
    position = db.session.query(GmailMailbox).one().history_id
    google.fail(
        "history.list", (400, "Invalid startHistoryId", "invalidArgument", "INVALID_ARGUMENT")
    )
    from server.gmail.client import GmailApiError

    with pytest.raises(GmailApiError):
        sync()
    assert db.session.query(GmailMailbox).one().history_id == position


def test_invalid_grant_marks_reconnect_needed_and_pauses(client, rep, sync, reported, google):
    google.revoke_all()
    assert sync() == {"mode": "reconnect_needed"}
    box = db.session.query(GmailMailbox).one()
    assert box.status == "reconnect_needed" and box.access_token_encrypted is None
    gmail = client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]
    assert gmail["connected"] is True and gmail["status"] == "reconnect_needed"
    google.calls.clear()
    assert sync() is None and not google.calls


def test_a_sent_message_is_matched_by_subject_time_and_recipients(client, rep, sync, google):
    google.add_message(SENT_HEADERS, labels=("SENT",))
    body = {
        "subject": "Quick question",
        "recipients": [{"email": "jane@example.com"}],
        "sent_at": datetime.fromtimestamp(google.epoch_ms / 1000 + 30, UTC).isoformat(),
    }
    mid = client.post("/api/v1/messages", json=body, headers=auth(rep[1])).json["id"]
    other = client.post(
        "/api/v1/messages", json=body | {"subject": "Another"}, headers=auth(rep[1])
    ).json["id"]
    assert sync()["confirmed"] == 1
    assert db.session.get(Message, mid).rfc_message_id == RFC_ID
    assert db.session.get(Message, other).gmail_message_id is None


def test_bounces_in_another_thread_match_by_references(sync, reported, google):
    mid, _ = reported
    sync()
    google.add_message(BOUNCE)  # its own thread
    assert sync()["bounces"] == 1
    assert db.session.query(Event).one().message_id == mid


def test_the_periodic_job_syncs_every_connected_mailbox(app, reported, mailbox, google):
    tasks = register_tasks(MemoryHuey(immediate=True), app)
    db.session.commit()
    assert tasks["gmail_sync_all"].call_local() == 1
    db.session.expire_all()
    assert db.session.get(Message, reported[0]).confirmed_at is not None
    db.session.get(GmailMailbox, mailbox.id).status = "reconnect_needed"
    db.session.commit()
    assert tasks["gmail_sync_all"].call_local() == 0


def test_gone_messages_are_skipped(sync, reported, google):
    sync()
    gone = google.add_message(reply_headers(), reported[1])
    google.delete(gone)
    assert sync()["replies"] == 0
    assert google.calls["messages.get"] == 1


def test_not_found_answers_other_than_history_are_errors(sync, reported, google):
    google.fail("getProfile", NOT_FOUND)
    from server.gmail.client import GmailApiError

    with pytest.raises(GmailApiError, match="not found"):
        sync()


def test_a_full_resync_reads_the_newest_threads_first(sync, client, rep, google, monkeypatch):
    from server.gmail import sync as gmail_sync

    monkeypatch.setattr(gmail_sync, "RESYNC_THREADS", 1)
    for thread, age in (
        ("18a0000000000000", timedelta(days=2)),
        ("18f0000000000000", timedelta(hours=1)),
    ):
        body = {
            "subject": "Hello",
            "recipients": [{"email": "jane@example.com"}],
            "gmail_thread_id": thread,
            "sent_at": (datetime.now(UTC) - age).isoformat(),
        }
        assert client.post("/api/v1/messages", json=body, headers=auth(rep[1])).status_code == 201
    google.threads_read.clear()
    assert sync()["mode"] == "full"
    assert google.threads_read == ["18f0000000000000"]


def test_a_bounce_in_a_shared_thread_is_the_failed_recipients_copy(sync, client, rep, google):
    thread = google.add_message(SENT_HEADERS, labels=("SENT",))
    ids = {}
    for email, age in (("jane@example.com", 10), ("bob@gone.test", 5)):
        body = {
            "subject": "Quick question",
            "recipients": [{"email": email}],
            "gmail_thread_id": thread,
            "sent_at": (datetime.now(UTC) - timedelta(minutes=age)).isoformat(),
        }
        ids[email] = client.post("/api/v1/messages", json=body, headers=auth(rep[1])).json["id"]
    sync()
    bounce = {k: v for k, v in BOUNCE.items() if k != "References"}
    at_ms = int(datetime.now(UTC).timestamp() * 1000)  # after both: bob's copy is the latest
    google.add_message(bounce | {"X-Failed-Recipients": "Jane@Example.com"}, thread, at_ms=at_ms)
    assert sync()["bounces"] == 1
    assert db.session.query(Event).one().message_id == ids["jane@example.com"]
