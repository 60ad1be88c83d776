"""Follow-up reminders: set on the rep's own message (validated), shown in its status, cancelled;
fired by the job as due with a feed notice, or done without one once the lead has replied (also
when Gmail sync records the reply); erased, purged and terminated with the rest."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy import func, select

from server.common import personal_data
from server.extensions import db
from server.jobs import register_tasks
from server.messages import activity, follow_ups
from server.messages.jobs import fire_follow_ups
from server.models import Event, FollowUp, Message
from server.privacy import retention, termination
from tests.support import auth
from tests.support.admin import add_message
from tests.support.google import run_sync, with_google

LEAD = "ana@example.test"


@pytest.fixture
def settings(settings):
    """A Google client, for the Gmail sync case."""
    return with_google(settings)


@pytest.fixture
def sent(rep):
    """A message of the rep's to the lead, in a Gmail thread."""
    message = add_message(rep[0], LEAD, events=0)
    message.gmail_thread_id = "18c2a5f0e1d2aaaa"
    db.session.commit()
    return message


def put(client, token, mid, body, **kwargs):
    return client.put(f"/api/v1/messages/{mid}/follow-up", headers=auth(token), json=body, **kwargs)


def reminder(mid: str) -> FollowUp | None:
    db.session.expire_all()
    return db.session.scalar(select(FollowUp).where(FollowUp.message_id == mid))


def reply(message: Message, at: datetime, eid: str = "r") -> None:
    """A reply Gmail sync recorded on `message`."""
    db.session.add(Event(id=eid * 32, account_id=message.account_id, message_id=message.id,
                         kind="reply", occurred_at=at, verdict="human"))  # fmt: skip
    db.session.commit()


def feed_after(user, cursor: str) -> list[dict]:
    """The rep's feed after `cursor`, read once everything up to now has settled."""
    later = time.time_ns() + int((activity.SETTLE_SECONDS + 1) * 1e9)
    return activity.feed(db.session, user, cursor, now_ns=later)["events"]


def test_a_rep_sets_a_reminder_and_sees_it_in_the_status(client, rep, sent):
    before = datetime.now(UTC)
    answer = put(client, rep[1], sent.id, {"days": 3})
    assert answer.status_code == 200, answer.json
    shown = answer.json["follow_up"]
    assert (shown["days"], shown["state"], shown["fired_at"]) == (3, "pending", None)
    due = datetime.fromisoformat(shown["due_at"])
    assert before + timedelta(days=3) <= due <= datetime.now(UTC) + timedelta(days=3)
    detail = client.get(f"/api/v1/messages/{sent.id}", headers=auth(rep[1])).json
    assert detail["follow_up"] == shown
    threads = client.post("/api/v1/threads/status", headers=auth(rep[1]),
                          json={"thread_ids": [sent.gmail_thread_id]}).json  # fmt: skip
    assert threads["threads"][sent.gmail_thread_id][0]["follow_up"] == shown
    # Set again: one reminder, re-armed from now.
    again = put(client, rep[1], sent.id, {"days": 7}).json["follow_up"]
    assert again["days"] == 7 and again["due_at"] > shown["due_at"]
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1


@pytest.mark.parametrize(
    "body",
    [{"days": 0}, {"days": 91}, {"days": -1}, {"days": "3"}, {"days": 2.5}, {"days": True},
     {"days": None}, {}, {"days": 3, "extra": 1}, [3]],
)  # fmt: skip
def test_days_must_be_a_whole_number_from_1_to_90(client, rep, sent, body):
    answer = put(client, rep[1], sent.id, body)
    assert answer.status_code == 400
    assert answer.json["error"] in ("invalid_request", "invalid_json")
    assert reminder(sent.id) is None


def test_a_body_that_is_not_json_is_refused_with_a_reason(client, rep, sent):
    answer = client.put(f"/api/v1/messages/{sent.id}/follow-up", data="{days: 3",
                        headers=auth(rep[1]) | {"Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 400 and answer.json["error"] == "invalid_json"
    assert answer.json["message"]
    assert follow_ups.MIN_DAYS == 1 and follow_ups.MAX_DAYS == 90
    assert put(client, rep[1], sent.id, {"days": 90}).status_code == 200
    assert put(client, rep[1], sent.id, {"days": 1}).status_code == 200


@pytest.mark.parametrize("who", ["other account", "colleague", "admin"])
def test_only_the_messages_own_rep_may_set_or_cancel(client, rep, sent, make_user, who):
    put(client, rep[1], sent.id, {"days": 3})
    other = {"other account": ("rep@globex.test", "Globex", False),
             "colleague": ("bo@acme.test", "Acme", False),
             "admin": ("boss@acme.test", "Acme", True)}[who]  # fmt: skip
    _, token = make_user(other[0], other[1], admin=other[2])
    assert put(client, token, sent.id, {"days": 30}).status_code == 404
    deleted = client.delete(f"/api/v1/messages/{sent.id}/follow-up", headers=auth(token))
    assert deleted.status_code == 404 and deleted.json["error"] == "not_found"
    kept = reminder(sent.id)
    assert (kept.days, kept.state) == (3, "pending")
    assert put(client, token, "x" * 22, {"days": 3}).status_code == 404  # no such message


def test_a_cancelled_reminder_never_fires(client, rep, sent):
    none = client.delete(f"/api/v1/messages/{sent.id}/follow-up", headers=auth(rep[1]))
    assert none.status_code == 200 and none.json == {"follow_up": None}
    put(client, rep[1], sent.id, {"days": 2})
    cancelled = client.delete(f"/api/v1/messages/{sent.id}/follow-up", headers=auth(rep[1]))
    assert cancelled.status_code == 200 and cancelled.json["follow_up"]["state"] == "cancelled"
    later = datetime.now(UTC) + timedelta(days=3)
    assert follow_ups.fire_due(db.session, later) == {"due": 0, "done": 0}
    assert reminder(sent.id).state == "cancelled"


def test_the_job_fires_a_due_reminder_without_a_reply_into_the_feed(client, app, rep, sent):
    cursor = activity.feed(db.session, rep[0], None)["cursor"]
    put(client, rep[1], sent.id, {"days": 2})
    early = fire_follow_ups(app, clock=lambda: datetime.now(UTC) + timedelta(days=1))()
    assert early == {"due": 0, "done": 0} and reminder(sent.id).state == "pending"
    # A reply from before the reminder was set does not count.
    reply(sent, datetime.now(UTC) - timedelta(hours=1))
    fired_at = datetime.now(UTC) + timedelta(days=2, seconds=1)
    assert fire_follow_ups(app, clock=lambda: fired_at)() == {"due": 1, "done": 0}
    due = reminder(sent.id)
    assert (due.state, due.fired_at, due.ended_at) == ("due", fired_at, None)
    [notice] = [e for e in feed_after(rep[0], cursor) if e["kind"] == "follow_up_due"]
    assert notice["message_id"] == sent.id and notice["subject"] == sent.subject
    assert notice["days"] == 2 and notice["id"] == due.notice_id
    # The API hands the notice out once, to its rep only.
    assert feed_after(rep[0], notice["id"]) == []
    assert fire_follow_ups(app, clock=lambda: fired_at + timedelta(days=1))()["due"] == 0


def test_the_job_runs_every_minute(app):
    task = register_tasks(MemoryHuey(immediate=True), app)["fire_follow_ups"]
    due = task.task_class().validate_datetime
    assert due(datetime(2026, 12, 5, 21, 1)) and due(datetime(2026, 12, 5, 21, 2))
    assert task.call_local() == {"due": 0, "done": 0}


def test_a_reply_in_the_thread_ends_it_as_done_without_a_notice(client, rep, sent):
    cursor = activity.feed(db.session, rep[0], None)["cursor"]
    put(client, rep[1], sent.id, {"days": 3})
    # The lead answers the rep's later message in the same thread.
    later = add_message(rep[0], LEAD, events=0)
    later.gmail_thread_id = sent.gmail_thread_id
    db.session.commit()
    reply(later, datetime.now(UTC) + timedelta(minutes=1))
    now = datetime.now(UTC) + timedelta(days=4)
    assert follow_ups.fire_due(db.session, now) == {"due": 0, "done": 1}
    db.session.commit()
    done = reminder(sent.id)
    assert (done.state, done.ended_at, done.notice_id) == ("done", now, None)
    assert [e for e in feed_after(rep[0], cursor) if e["kind"] == "follow_up_due"] == []


def test_gmail_sync_recording_a_reply_ends_the_pending_reminder(
    app, client, rep, reported, mailbox, google
):
    from tests.gmail.test_gmail_sync import reply_headers

    mid, thread = reported
    run_sync(app, mailbox)  # confirms the message
    put(client, rep[1], mid, {"days": 3})
    assert reminder(mid).state == "pending"
    google.add_message(reply_headers(), thread, at_ms=int(time.time() * 1000) + 60_000)
    assert run_sync(app, mailbox)["replies"] == 1
    ended = reminder(mid)
    assert ended.state == "done" and ended.ended_at is not None
    assert follow_ups.fire_due(db.session, datetime.now(UTC) + timedelta(days=4))["due"] == 0


def test_erasing_the_lead_or_the_rep_removes_their_reminders(client, rep, sent, admin):
    put(client, rep[1], sent.id, {"days": 3})
    found = personal_data.find_all(db.session, rep[0].account_id, LEAD)["follow_ups"]
    assert [(f["message_id"], f["state"]) for f in found["follow_ups"]] == [(sent.id, "pending")]
    personal_data.erase_all(db.session, rep[0].account_id, LEAD)
    db.session.commit()
    assert reminder(sent.id) is None
    other = add_message(rep[0], "bo@example.test", events=0)
    db.session.commit()
    put(client, rep[1], other.id, {"days": 3})
    mine = personal_data.find_all(db.session, rep[0].account_id, rep[0].email)["follow_ups"]
    assert len(mine["follow_ups"]) == 1
    personal_data.erase_all(db.session, rep[0].account_id, rep[0].email)
    db.session.commit()
    assert reminder(other.id) is None


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_termination_removes_the_accounts_reminders(client, rep, sent, admin, mode):
    put(client, rep[1], sent.id, {"days": 3})
    termination.terminate(db.session, admin.account, admin.account.name, mode)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_retention_purges_ended_reminders_and_those_of_expired_messages(client, rep, sent):
    mid = sent.id
    put(client, rep[1], sent.id, {"days": 3})
    client.delete(f"/api/v1/messages/{sent.id}/follow-up", headers=auth(rep[1]))
    ended = reminder(sent.id).ended_at
    days = rep[0].account.retention_days
    assert retention.purge(db.session, ended + timedelta(days=days)) == {}
    assert reminder(sent.id) is not None  # exactly as old as the period: kept
    later = ended + timedelta(days=days, seconds=1)
    assert retention.purge(db.session, later) == {rep[0].account_id: 1}
    assert reminder(sent.id) is None
    put(client, rep[1], sent.id, {"days": 3})  # pending: only the message's retention takes it
    periods = retention.Periods(messages=1, contacts=0, enrichment=0, breaches=0, data_requests=0)
    retention.purge_kinds(db.session, datetime.now(UTC) + timedelta(days=2), periods)
    db.session.commit()
    assert reminder(mid) is None
    assert db.session.scalar(select(Message.id).where(Message.id == mid)) is None
