"""The audit log is tamper-evident: a keyed hash chain over every entry, checked by
`flask audit verify`; on SQLite a replacing insert is refused like an update."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from server.common import audit
from server.extensions import db
from server.models import AuditEntry
from tests.support.audit_guard import tamper


def _entries(admin, count: int = 3) -> list[AuditEntry]:
    made = [audit.record(db.session, admin.account_id, "sign_in", actor=admin, detail=f"#{i}")
            for i in range(count)]  # fmt: skip
    db.session.commit()
    return made


def _verify(app, *args):
    return CliRunner().invoke(app.cli, ["audit", "verify", *args], catch_exceptions=False)


def _tamper(statement: str, **params) -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        tamper(conn, statement, **params)


def test_a_replacing_insert_of_an_existing_entry_is_refused(app, admin):
    entry = _entries(admin, 1)[0]
    replace = {
        "sqlite": "INSERT OR REPLACE INTO audit_entries (id, at, actor, action, target, detail) "
        "VALUES (:id, CURRENT_TIMESTAMP, 'x', 'forged', '', '')",
        "postgresql": "INSERT INTO audit_entries (id, at, actor, action, target, detail) "
        "VALUES (:id, now(), 'x', 'forged', '', '') "
        "ON CONFLICT (id) DO UPDATE SET action = 'forged'",
    }[db.engine.dialect.name]
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(replace), {"id": entry.id})
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.id == entry.id)) == (
        "sign_in"
    )
    assert _verify(app).exit_code == 0


def test_verify_walks_the_chain_and_prints_its_head(app, admin):
    entries = _entries(admin)
    result = _verify(app)
    assert result.exit_code == 0
    assert result.output == f"OK: 3 entries, head {entries[-1].chain_hash}\n"
    assert _verify(app, "--head").output == f"{entries[-1].chain_hash}\n"
    assert len({e.chain_hash for e in entries}) == 3


def test_an_entry_changed_by_the_database_owner_is_named(app, admin):
    entries = _entries(admin)
    _tamper("UPDATE audit_entries SET detail = 'nothing happened' WHERE id = :id",
            id=entries[1].id)  # fmt: skip
    result = _verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at entry #{entries[1].id}: its chain hash does not match" in result.output
    assert "1 entries before it hold" in result.output


def test_a_removed_last_entry_is_caught_by_a_recorded_head(app, admin):
    entries = _entries(admin)
    recorded = _verify(app, "--head").output.strip()
    _tamper("DELETE FROM audit_entries WHERE id = :id", id=entries[-1].id)
    assert _verify(app).exit_code == 0  # what is left is still a valid chain...
    result = _verify(app, "--recorded", recorded)
    assert result.exit_code == 1  # ...but the head written down is gone
    assert f"recorded head {recorded} is no longer in the chain" in result.output


def test_rotating_the_secret_key_keeps_old_entries_verifiable(app, admin):
    _entries(admin, 2)  # chained with the key derived from SECRET_KEY
    old_secret = app.config["LEADCAMP"].secret_key
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(secret_key="a-new-secret")
    refused = _verify(app)
    assert refused.exit_code == 1 and "which no configured key matches" in refused.output
    # The documented way: a chain key of its own first, the old SECRET_KEY kept to verify.
    keys = ("dedicated-chain-key", old_secret)
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(audit_chain_keys=keys)
    newest = _entries(admin, 2)[-1]
    assert newest.chain_key_id != db.session.get(AuditEntry, newest.id - 2).chain_key_id
    assert _verify(app).output == f"OK: 4 entries, head {newest.chain_hash}\n"


def test_concurrent_writers_keep_one_chain(app, admin):
    account_id, errors = admin.account_id, []

    def write(n: int) -> None:
        with app.app_context():
            try:
                for i in range(5):
                    audit.record(db.session, account_id, "sign_in", detail=f"{n}.{i}")
                    db.session.commit()
            except Exception as exc:  # reported below: a thread cannot fail the test itself
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _verify(app).output.startswith("OK: 20 entries")
