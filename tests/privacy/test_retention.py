"""The retention purge honours each account's period exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from huey import MemoryHuey
from sqlalchemy import select

from server.accounts import users as accounts
from server.extensions import db
from server.jobs import register_tasks
from server.models import Account, AuditEntry, Event, SelfView
from server.privacy import retention
from server.privacy.jobs import purge_expired_events
from tests.support.admin import add_message

NOW = datetime(2026, 11, 25, 3, 17, 0, 123456, tzinfo=UTC)


def _event(account_id: int, eid: str, at: datetime) -> Event:
    return Event(
        id=eid, account_id=account_id, message_id="m" * 32, kind="open", occurred_at=at,
        verdict="human",
    )  # fmt: skip


def _ids() -> set[str]:
    return set(db.session.scalars(select(Event.id)))


def test_purge_keeps_the_boundary_and_deletes_one_microsecond_older(app):
    acme = accounts.create_user(db.session, "a@acme.test", "Acme").account
    short = accounts.create_user(db.session, "b@short.test", "Short").account
    short.retention_days = 30
    db.session.flush()
    assert acme.retention_days == 396  # 13 months by default
    boundary = NOW - timedelta(days=396)
    db.session.add_all(
        [
            _event(acme.id, "at-boundary", boundary),
            _event(acme.id, "just-older", boundary - timedelta(microseconds=1)),
            _event(acme.id, "recent", NOW - timedelta(days=1)),
            _event(short.id, "short-kept", NOW - timedelta(days=30)),
            _event(short.id, "short-gone", NOW - timedelta(days=30, seconds=1)),
        ]
    )
    db.session.commit()
    removed = retention.purge(db.session, NOW)
    db.session.commit()
    assert removed == {acme.id: 1, short.id: 1}
    assert _ids() == {"at-boundary", "recent", "short-kept"}
    assert retention.purge(db.session, NOW) == {}  # nothing left to purge
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("retention.purge") == 2


def test_sender_views_are_purged_with_the_events(app):
    rep = accounts.create_user(db.session, "a@acme.test", "Acme")
    other = accounts.create_user(db.session, "b@globex.test", "Globex")
    other.account.retention_days = 1000
    boundary = NOW - timedelta(days=396)
    for user in (rep, other):
        message = add_message(user, "ana@example.test", events=0)
        for at in (boundary, boundary - timedelta(seconds=1), NOW):
            db.session.add(SelfView(message_id=message.id, user_id=user.id, viewed_at=at))
    db.session.commit()
    assert retention.purge(db.session, NOW) == {rep.account_id: 1}
    db.session.commit()
    kept = db.session.execute(select(SelfView.user_id, SelfView.viewed_at)).all()
    assert sorted(uid for uid, _ in kept) == [rep.id, rep.id, other.id, other.id, other.id]
    assert boundary - timedelta(seconds=1) not in {at for uid, at in kept if uid == rep.id}
    detail = db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "retention.purge")
    )
    assert detail == "0 event(s), 1 sender view(s) older than 396 days"


def test_the_nightly_job_runs_the_purge_with_its_clock(app):
    account = accounts.create_user(db.session, "a@acme.test", "Acme").account
    db.session.add(_event(account.id, "old", NOW - timedelta(days=400)))
    db.session.commit()
    task = register_tasks(MemoryHuey(immediate=True), app)["purge_expired_events"]
    due = task.task_class().validate_datetime
    assert due(datetime(2026, 11, 26, 3, 17)) and not due(datetime(2026, 11, 26, 4, 17))
    assert purge_expired_events(app, clock=lambda: NOW)() == {account.id: 1}
    db.session.add(_event(account.id, "old-again", datetime.now(UTC) - timedelta(days=397)))
    db.session.commit()
    assert task.call_local() == {account.id: 1}  # as the worker runs it, on the real clock
    assert _ids() == set()
    assert db.session.get(Account, account.id) is not None


def test_the_purge_command(app):
    account = accounts.create_user(db.session, "a@acme.test", "Acme").account
    db.session.add(_event(account.id, "old", datetime.now(UTC) - timedelta(days=397)))
    db.session.commit()
    result = CliRunner().invoke(app.cli, ["purge"], catch_exceptions=False)
    assert result.output.strip() == "purged 1 events and sender views from 1 account(s)"
    assert _ids() == set()
