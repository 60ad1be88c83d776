"""Hits on messages not reported yet: they wait, count for their key's rep once the message is
reported, and are dropped when the message is someone else's or never reported."""

from __future__ import annotations

from datetime import UTC, datetime

from huey import MemoryHuey

from server.accounts import users as accounts
from server.extensions import db
from server.jobs import register_tasks
from server.models import Event, Message, MessageSummary, PendingHit
from server.tracking import pending
from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows
from tests.support import make_event

MID = "w" * 22


def report(user) -> None:
    db.session.add(Message(id=MID, account_id=user.account_id, user_id=user.id, kid="k"))
    db.session.commit()


def counts() -> tuple[int, int, MessageSummary | None]:
    db.session.expire_all()
    waiting = db.session.query(PendingHit).count()
    return waiting, db.session.query(Event).count(), db.session.get(MessageSummary, MID)


def test_a_hit_waits_until_its_reps_message_is_reported_then_counts(app, rep, kid):
    writer = BatchWriter(db.engine, Windows())
    event = make_event(kid, MID)
    assert writer([event, event]) == 0
    assert writer([event]) == 0  # a replay waits once
    assert counts() == (1, 0, None)
    report(rep[0])
    tasks = register_tasks(MemoryHuey(immediate=True), app)
    assert tasks["settle_pending_hits"].call_local() == 1
    waiting, stored, summary = counts()
    assert (waiting, stored, summary.opens, summary.account_id) == (0, 1, 1, rep[0].account_id)


def test_a_waiting_hit_signed_by_someone_else_is_dropped_when_the_message_appears(
    app, rep, make_user
):
    outsider = make_user("mallory@globex.test", "Globex")[0]
    theirs = accounts.current_signing_key(db.session, outsider).kid
    db.session.commit()
    writer = BatchWriter(db.engine, Windows())
    writer(
        [make_event(theirs, MID), make_event(theirs, MID, kind="click", link_url="https://x.test/")]
    )
    report(rep[0])
    assert writer.settle(datetime.now(UTC)) == 0
    assert counts() == (0, 0, None)
    assert writer.dropped == {"not the message owner's": 2}


def test_hits_nobody_reports_are_dropped_after_the_grace_period(app, rep, kid):
    writer = BatchWriter(db.engine, Windows())
    writer([make_event(kid, MID)])
    assert writer.settle(datetime.now(UTC)) == 0
    assert counts() == (1, 0, None)
    assert writer.settle(datetime.now(UTC) + pending.GRACE * 1.01) == 0
    assert counts() == (0, 0, None)
    assert writer.dropped == {"unreported": 1}
    report(rep[0])  # too late: the hit is gone
    assert writer([]) == 0 and counts() == (0, 0, None)
