"""Migrations on both backends, each on a database of its own: the migrated schema is the models',
and the session generation reaches users who existed before it (and goes away on downgrade)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, text

from server import create_app
from server.extensions import db
from tests.conftest import BACKENDS, PG_URL, make_settings, sqlalchemy_url
from tests.support import postgres


@pytest.fixture(params=BACKENDS)
def empty_app(request, tmp_path):
    """The app on an empty database of its own (not the suite's migrated one)."""
    if request.param == "sqlite":
        yield from _app(f"sqlite:///{tmp_path / 'migrations.db'}", tmp_path)
        return
    with postgres.throwaway_database(PG_URL, postgres.TEST_PREFIX) as url:
        yield from _app(sqlalchemy_url(url), tmp_path)


def _app(url: str, tmp_path):
    app = create_app(make_settings(url, instance_path=tmp_path, spool_dir=tmp_path / "spool"))
    with app.app_context():
        yield app
        app.extensions["leadcamp.sink"].close()
        db.session.remove()
        db.engine.dispose()


def user_columns() -> set[str]:
    """The columns the users table has in the database."""
    with db.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("users")}


def test_existing_users_get_generation_zero_and_downgrade_drops_it(empty_app):
    upgrade(revision="0010")
    tables = MetaData()
    tables.reflect(db.engine, only=["accounts", "users"])
    now = datetime.now(UTC)
    account = {"id": 1, "name": "Acme", "tracking_enabled": True, "track_by_default": True,
               "retention_days": 396, "sending_enabled": False, "created_at": now}  # fmt: skip
    user = {"id": 1, "account_id": 1, "email": "rep@acme.test", "name": "", "role": "rep",
            "active": True, "login_generation": 3, "created_at": now}  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(tables.tables["accounts"].insert().values(account))
        conn.execute(tables.tables["users"].insert().values(user))
    upgrade(revision="0011")
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT session_generation FROM users WHERE id = 1")) == 0
    downgrade(revision="0010")
    assert "session_generation" not in user_columns()
    upgrade()
    assert "session_generation" in user_columns()


def test_the_migrated_schema_is_the_models(empty_app):
    upgrade()
    with db.engine.connect() as conn:
        changes = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert changes == []


def test_entries_older_than_the_chain_are_chained_and_user_ids_stay_unique(empty_app):
    from click.testing import CliRunner

    upgrade(revision="0012")
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for action in ("sign_in", "token.create"):
            conn.execute(
                text("INSERT INTO audit_entries (at, actor, action, target, detail) "
                     "VALUES (:at, 'cli', :action, '', '')"),
                {"at": now, "action": action},
            )  # fmt: skip
    upgrade()
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM audit_entries WHERE chain_hash IS NULL")) == 0
    result = CliRunner().invoke(empty_app.cli, ["audit", "verify"], catch_exceptions=False)
    assert result.exit_code == 0 and result.output.startswith("OK: 2 entries")
    db.session.remove()  # its read would hold off the downgrade's table changes on PostgreSQL
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            sql = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'users'"))
        assert "AUTOINCREMENT" in sql
    downgrade(revision="0012")
    upgrade()


def message_columns() -> set[str]:
    """The columns the messages table has in the database."""
    with db.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("messages")}


def test_messages_sent_before_the_track_parts_tracked_both_and_downgrade_drops_them(empty_app):
    upgrade(revision="0016")
    now = datetime.now(UTC)
    tables = MetaData()
    tables.reflect(db.engine, only=["accounts", "users", "messages"])
    account = {"id": 1, "name": "Acme", "tracking_enabled": True, "track_by_default": True,
               "retention_days": 396, "sending_enabled": False, "created_at": now}  # fmt: skip
    user = {"id": 1, "account_id": 1, "email": "rep@acme.test", "name": "", "role": "rep",
            "active": True, "login_generation": 0, "session_generation": 0,
            "created_at": now}  # fmt: skip
    message = {"id": "m" * 22, "account_id": 1, "user_id": 1, "kid": "k1", "subject": "",
               "tracked": True, "created_at": now}  # fmt: skip
    with db.engine.begin() as conn:
        for name, row in (("accounts", account), ("users", user), ("messages", message)):
            conn.execute(tables.tables[name].insert().values(row))
    upgrade(revision="0019_track_parts")
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT track_opens, track_links FROM messages")).one()
    assert tuple(map(bool, row)) == (True, True)
    downgrade(revision="0016")
    assert not {"track_opens", "track_links"} & message_columns()
    upgrade()
    assert {"track_opens", "track_links"} <= message_columns()


def test_summaries_of_messages_that_bounced_before_get_the_bounce_time(empty_app):
    upgrade(revision="0016")
    tables = MetaData()
    tables.reflect(db.engine, only=["accounts", "events", "message_summaries"])
    now = datetime.now(UTC)
    account = {"id": 1, "name": "Acme", "tracking_enabled": True, "track_by_default": True,
               "retention_days": 396, "sending_enabled": False, "created_at": now}  # fmt: skip
    bounced = datetime(2026, 11, 25, 14, 3, tzinfo=UTC)
    event = {"account_id": 1, "kid": "k", "verdict": "machine", "reasons": "",
             "classifier_version": 1, "method": ""}  # fmt: skip
    events = [
        event | {"id": "e1", "message_id": "bounced", "kind": "bounce", "occurred_at": bounced},
        event | {"id": "e2", "message_id": "bounced", "kind": "open", "occurred_at": now},
        event | {"id": "e3", "message_id": "fine", "kind": "open", "occurred_at": bounced},
    ]  # fmt: skip
    summary = {"account_id": 1, "opens": 0, "clicks": 0, "replies": 0, "n_human": 0,
               "n_proxy": 0, "n_machine": 0, "n_scanner": 0, "n_prefetch": 0, "n_bot": 0,
               "n_self": 0}  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(tables.tables["accounts"].insert().values(account))
        conn.execute(tables.tables["events"].insert(), events)
        conn.execute(
            tables.tables["message_summaries"].insert(),
            [summary | {"message_id": "bounced", "bounces": 1},
             summary | {"message_id": "fine", "bounces": 0}],
        )  # fmt: skip
    upgrade(revision="0021_receipts")
    with db.engine.connect() as conn:
        query = text("SELECT message_id, last_bounce_at FROM message_summaries")
        rows = dict(conn.execute(query).all())
    assert set(rows) == {"bounced", "fine"} and rows["fine"] is None
    got = rows["bounced"]
    got = datetime.fromisoformat(got) if isinstance(got, str) else got
    assert got.replace(tzinfo=got.tzinfo or UTC) == bounced
    downgrade(revision="0016")
    upgrade()


def test_existing_mail_is_marked_for_roll_up_and_the_refresh_builds_it(empty_app):
    from server.messages import rollups
    from server.models import ReportRollup

    upgrade(revision="0025_reports")
    tables = MetaData()
    tables.reflect(db.engine, only=["accounts", "users", "messages"])
    now = datetime.now(UTC)
    account = {"id": 1, "name": "Acme", "tracking_enabled": True, "track_by_default": True,
               "retention_days": 396, "sending_enabled": False, "created_at": now}  # fmt: skip
    user = {"id": 1, "account_id": 1, "email": "rep@acme.test", "name": "", "role": "rep",
            "active": True, "login_generation": 0, "session_generation": 0,
            "created_at": now}  # fmt: skip
    message = {"account_id": 1, "user_id": 1, "kid": "k1", "subject": "", "tracked": True,
               "track_opens": True, "track_links": False, "created_at": now}  # fmt: skip
    # Two on one UTC day (one a second before its end), one on the next.
    sent = [datetime(2026, 11, 24, 0, 0, tzinfo=UTC), datetime(2026, 11, 24, 23, 59, 59,
            tzinfo=UTC), datetime(2026, 11, 25, 0, 0, tzinfo=UTC)]  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(tables.tables["accounts"].insert().values(account))
        conn.execute(tables.tables["users"].insert().values(user))
        rows = [message | {"id": f"m{i}", "sent_at": at} for i, at in enumerate(sent)]
        conn.execute(tables.tables["messages"].insert(), rows)
    upgrade(revision="0026_report_rollups")
    assert len(rollups.stale(db.session)) == 2
    assert rollups.refresh(db.session) == 2
    db.session.commit()
    rows = db.session.query(ReportRollup).order_by(ReportRollup.day).all()
    got = [(r.day.isoformat(), r.sent, r.open_base, r.click_base, r.built) for r in rows]
    assert got == [("2026-11-24", 2, 2, 0, 1), ("2026-11-25", 1, 1, 0, 1)]
    db.session.remove()
    downgrade(revision="0025_reports")
    assert "report_rollups" not in inspect(db.engine).get_table_names()
    upgrade()
