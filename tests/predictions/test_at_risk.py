"""The at-risk flag: a thread really opened N or more days ago (within the lookback) with no
reply in it since; machine opens never make a thread at risk, a reply anywhere in it clears it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.extensions import db
from server.models import Event, MessageSummary
from server.predictions import service
from server.tracking.summaries import add_to_summaries
from tests.support.admin import add_message

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def sent(user, to: str, thread: str | None = None, days_ago: float = 10):
    message = add_message(user, to, events=0)
    message.sent_at = NOW - timedelta(days=days_ago)
    message.gmail_thread_id = thread
    db.session.commit()
    return message


def hit(message, kind: str, days_ago: float, verdict: str = "human") -> None:
    """Store one event and add it to the message's summary, as the event writer does."""
    at = NOW - timedelta(days=days_ago)
    n = db.session.query(Event).count()
    db.session.add(
        Event(id=f"{message.id[:20]}{n:012d}", account_id=message.account_id,
              message_id=message.id, kid=message.kid, kind=kind, occurred_at=at, verdict=verdict)
    )  # fmt: skip
    event = {"message_id": message.id, "account_id": message.account_id, "kind": kind,
             "verdict": verdict, "occurred_at": at.timestamp()}  # fmt: skip
    add_to_summaries(db.session.connection(), [event])
    db.session.commit()


def test_which_threads_are_at_risk(app, rep, make_user):
    user, _ = rep
    risky = sent(user, "a@customer.test", "t1")
    hit(risky, "open", 5, "proxy")
    fresh = sent(user, "b@customer.test", "t2")
    hit(fresh, "open", 1)  # opened yesterday: give them time
    answered = sent(user, "c@customer.test", "t3")
    hit(answered, "open", 6)
    hit(answered, "reply", 4)
    machine = sent(user, "d@customer.test", "t4")
    hit(machine, "open", 6, "machine")  # Apple's prefetch is not a read
    hit(machine, "open", 6, "scanner")
    stale = sent(user, "e@customer.test", "t5", days_ago=60)
    hit(stale, "open", 45)  # past the lookback: no longer a thread to chase
    first, follow_up = sent(user, "f@customer.test", "t6"), sent(user, "f@customer.test", "t6", 3)
    hit(first, "open", 8)
    hit(follow_up, "reply", 2)  # the lead answered the follow-up in the same thread
    bounced = sent(user, "g@customer.test", "t7")
    hit(bounced, "open", 6)
    hit(bounced, "bounce", 6, "machine")

    found = service.at_risk(db.session, user, NOW, days=3)
    assert [m["id"] for m in found] == [risky.id]
    assert found[0]["opens"] == 1 and found[0]["recipients"] == ["a@customer.test"]
    assert [m["id"] for m in service.at_risk(db.session, user, NOW, days=1)] == [
        risky.id, fresh.id,
    ]  # fmt: skip

    other, _ = make_user("rep2@acme.test")
    assert service.at_risk(db.session, other, NOW) == []  # a rep sees only their own


def test_the_flag_on_one_summary(app, rep):
    user, _ = rep
    message = sent(user, "a@customer.test")
    assert not service.is_at_risk(None, NOW, 3)
    hit(message, "open", 3.5)
    summary = db.session.get(MessageSummary, message.id)
    assert service.is_at_risk(summary, NOW, 3)
    assert not service.is_at_risk(summary, NOW, 4)
