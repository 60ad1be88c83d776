"""The send job sends each copy at most once: a claimed run, "sending" recorded before the call,
one call to Gmail, and an answer that never came ends as unknown, never as a retry."""

from __future__ import annotations

import sqlite3
import threading
from http.client import RemoteDisconnected

import pytest
import requests
from urllib3.exceptions import ProtocolError

from server.cli.serve import JOB_LOCK_WAIT, patient_sqlite
from server.extensions import db
from server.models import JobRun, Message
from tests.support import auth, own_message_id
from tests.support.google import (
    METADATA,
    RATE_LIMITED,
    SEND,
    SIGN_IN,
    connect_mailbox,
    run_sync,
)
from tests.support.google import with_google as google_settings
from tests.support.jobs import follow, pending, run_jobs

BODY = {
    "recipients": [{"email": "jane@example.com"}, {"email": "bo@example.org"}],
    "subject": "Pricing",
    "html": '<p>See <a href="https://example.com/pricing">pricing</a>.</p>',
}
DROPPED = requests.ConnectionError(
    ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection"))
)


@pytest.fixture
def settings(settings):
    """These tests run with a Google client configured."""
    return google_settings(settings)


@pytest.fixture
def mailbox(app, rep, google):
    """The rep may send, from a mailbox that granted sending."""
    rep[0].account.sending_enabled = True
    db.session.commit()
    return connect_mailbox(app, rep[0], google, (*SIGN_IN, METADATA, SEND))


def post(client, token, body=BODY):
    return client.post("/api/v1/messages/send", json=body, headers=auth(token))


def test_the_request_answers_at_once_and_the_job_sends(client, rep, mailbox, google):
    response = post(client, rep[1])
    assert response.status_code == 202
    accepted = response.json
    assert set(accepted) == {"id", "status", "status_url"} and accepted["status"] == "queued"
    assert (
        response.headers["Location"] == accepted["status_url"] == f"/api/v1/jobs/{accepted['id']}"
    )
    queued = client.get(accepted["status_url"], headers=auth(rep[1])).json
    assert queued["status"] == "queued" and queued["progress"] == {
        "total": 2,
        "done": 0,
        "failed": 0,
    }
    assert [i["status"] for i in queued["items"]] == ["queued", "queued"]
    assert not google.sent and pending(client.application) == 1  # nothing went out yet
    done = follow(client, response, auth(rep[1]))
    assert done["status"] == "succeeded" and done["started_at"] and done["finished_at"]
    assert len(google.sent) == 2


@pytest.mark.parametrize(
    "lost",
    [requests.ReadTimeout("Read timed out. (read timeout=30)"), DROPPED],
    ids=["timeout", "connection-dropped"],
)
def test_an_answer_that_never_came_ends_unknown_and_is_not_retried(
    client, app, rep, mailbox, google, lost
):
    google.lose_answer("messages.send", lost)  # Gmail sends the first copy; its answer is lost
    run = follow(client, post(client, rep[1]), auth(rep[1]))
    assert run["status"] == "unknown" and "may have been sent" in run["error"]
    assert [i["status"] for i in run["items"]] == ["unknown", "not_sent"]
    assert google.calls["messages.send"] == 1 and len(google.sent) == 1  # no second call
    # The copy stays recorded, unconfirmed, under the Message-ID it went out with.
    first = db.session.get(Message, run["items"][0]["id"])
    assert first.gmail_message_id is None
    assert first.rfc_message_id == google.sent[0]["mime"]["Message-ID"]
    assert db.session.get(Message, run["items"][1]["id"]) is None
    # Sending it again under the same id looks in the rep's sent mail first: it is there, so it
    # is recorded sent and not sent again.
    again = BODY | {"recipients": [BODY["recipients"][0] | {"id": first.id}]}
    resent = follow(client, post(client, rep[1], again), auth(rep[1]))
    assert resent["status"] == "succeeded", resent
    assert [(i["status"], i["gmail_message_id"]) for i in resent["items"]] == [
        ("sent", google.sent[0]["id"])
    ]
    assert db.session.get(Message, first.id).gmail_message_id == google.sent[0]["id"]
    assert google.calls["messages.send"] == 1 and len(google.sent) == 1
    # Gmail sync confirms it.
    run_sync(app, mailbox)
    assert db.session.get(Message, first.id).confirmed_at is not None


def test_a_failure_on_googles_side_ends_unknown_without_a_retry(client, rep, mailbox, google):
    google.fail("messages.send", (503, "Service unavailable", "backendError", "UNAVAILABLE"))
    run = follow(client, post(client, rep[1]), auth(rep[1]))
    assert run["status"] == "unknown" and "may have been sent" in run["error"]
    assert google.calls["messages.send"] == 1


def test_a_run_enqueued_twice_sends_once(client, app, rep, mailbox, google):
    response = post(client, rep[1])
    app.extensions["leadcamp.jobs"].enqueue("gmail_send", response.json["id"])  # a duplicate
    assert pending(app) == 2
    assert run_jobs(app) == 2
    run = client.get(response.headers["Location"], headers=auth(rep[1])).json
    assert run["status"] == "succeeded" and google.calls["messages.send"] == 2  # one per copy


def test_the_same_copies_sent_twice_before_the_worker_runs_go_out_once(
    client, app, rep, mailbox, google
):
    body = BODY | {"recipients": [r | {"id": own_message_id(app, rep[0])}
                                  for r in BODY["recipients"]]}  # fmt: skip
    first, second = post(client, rep[1], body), post(client, rep[1], body)
    assert first.status_code == second.status_code == 202
    run_jobs(app)
    runs = [client.get(r.headers["Location"], headers=auth(rep[1])).json for r in (first, second)]
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    assert [i["status"] for i in runs[1]["items"]] == ["sent", "sent"]  # found sent: skipped
    assert google.calls["messages.send"] == 2 and db.session.query(Message).count() == 2


def test_sending_switched_off_after_the_request_sends_nothing(client, rep, mailbox, google):
    response = post(client, rep[1])
    rep[0].account.sending_enabled = False
    run = follow(client, response, auth(rep[1]))
    assert run["status"] == "failed" and "sending is off" in run["error"]
    assert not google.sent


def test_a_rep_deactivated_after_the_request_sends_nothing(client, app, rep, make_user, mailbox,
                                                           google):  # fmt: skip
    response = post(client, rep[1])
    rep[0].active = False
    run_jobs(app)
    _, admin = make_user("boss@acme.test", admin=True)
    run = client.get(response.headers["Location"], headers=auth(admin)).json
    assert run["status"] == "failed" and "deactivated" in run["error"] and not google.sent


def test_a_copy_is_sending_in_the_database_while_gmail_is_asked(client, rep, mailbox, google):
    seen = []
    route = google.route

    def look(method, path, query, body, scope):
        """What the database says while Gmail handles the send."""
        if path.endswith("messages/send"):
            with db.engine.connect() as conn:
                seen.append(conn.execute(JobRun.__table__.select()).one().items[0]["status"])
        return route(method, path, query, body, scope)

    google.route = look
    one = BODY | {"recipients": BODY["recipients"][:1]}
    assert follow(client, post(client, rep[1], one), auth(rep[1]))["status"] == "succeeded"
    assert seen == ["sending"]


def test_a_rate_limited_send_is_not_sent_and_not_retried(client, rep, mailbox, google):
    google.fail("messages.send", RATE_LIMITED)
    run = follow(client, post(client, rep[1]), auth(rep[1]))
    assert run["status"] == "failed" and [i["status"] for i in run["items"]] == [
        "failed",
        "not_sent",
    ]
    assert google.calls["messages.send"] == 1 and db.session.query(Message).count() == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # one writer for all of it
def test_a_sent_copy_is_recorded_even_when_the_database_is_busy_at_that_moment(
    client, rep, mailbox, google, settings, monkeypatch
):
    path = settings.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, check_same_thread=False)  # released by a timer's thread
    send = google._send

    def send_while_another_writer_holds_the_lock(body):
        answer = send(body)
        if len(google.sent) == 1:  # past the busy timeout: the first attempt to record fails
            holder.execute("BEGIN IMMEDIATE")
            threading.Timer(6, holder.rollback).start()
        return answer

    monkeypatch.setattr(google, "_send", send_while_another_writer_holds_the_lock)
    patient_sqlite(db.engine, JOB_LOCK_WAIT)  # as `jobs worker` does
    done = follow(client, post(client, rep[1]), auth(rep[1]))
    holder.close()
    assert done["status"] == "succeeded", done
    assert [i["status"] for i in done["items"]] == ["sent", "sent"] and len(google.sent) == 2
    assert db.session.query(Message).filter(Message.gmail_message_id.is_not(None)).count() == 2
