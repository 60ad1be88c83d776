"""A restored pre-erasure backup brings an erased person back; the erasure ledger (kept outside
the backup by `privacy export-ledger`) lets `privacy reapply-erasures` erase them again. The
backup is real: SQLite's online backup API, or pg_dump/pg_restore on PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.accounts import users as accounts
from server.contacts import service as contacts
from server.extensions import db
from server.models import Contact, ErasureLedgerEntry, Recipient, User
from server.privacy import data_requests, erasure_ledger
from tests.support.admin import add_message

PERSON = "Ana.Ruiz@Example.test"


def _backup(path) -> None:
    """Back the live database up to `path` (engine's connections closed first)."""
    db.session.remove()
    db.engine.dispose()
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as live, sqlite3.connect(path) as copy:
            live.backup(copy)
        return
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not on PATH: the PostgreSQL backup cannot be tested")
    subprocess.run(["pg_dump", "-Fc", "-f", str(path), *_pg_args(url)], check=True)


def _restore(path) -> None:
    """Put the backup at `path` back over the live database."""
    db.session.remove()
    db.engine.dispose()
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(path) as copy, sqlite3.connect(url.database) as live:
            copy.backup(live)
        return
    if not shutil.which("pg_restore"):
        pytest.skip("pg_restore is not on PATH: the PostgreSQL restore cannot be tested")
    command = ["pg_restore", "--clean", "--if-exists", "--single-transaction"]
    subprocess.run([*command, *_pg_args(url), str(path)], check=True)


def _pg_args(url) -> list[str]:
    return ["-h", url.host, "-p", str(url.port or 5432), "-U", url.username, "-d", url.database]


def _held() -> tuple[list[str], list[str]]:
    db.session.expire_all()
    return (
        list(db.session.scalars(select(Contact.email))),
        list(db.session.scalars(select(Recipient.email))),
    )


def test_reapplying_the_ledger_erases_a_person_a_restore_brought_back(app, tmp_path):
    admin = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    db.session.commit()
    admin_id = admin.id
    add_message(admin, PERSON.lower())
    contacts.upsert_contact(db.session, admin.account_id, PERSON)
    db.session.commit()
    before = _held()
    assert PERSON.lower() in before[1]
    backup = tmp_path / "backup.db"
    _backup(backup)
    admin = db.session.get(User, admin_id)
    data_requests.erase(db.session, "test-secret-key", admin, "  " + PERSON.upper())
    db.session.commit()
    assert _held() == ([], [])
    ledger = tmp_path / "ledger.json"
    runner = CliRunner()
    out = runner.invoke(app.cli, ["privacy", "export-ledger", str(ledger)], catch_exceptions=False)
    assert out.output.strip() == f"wrote 1 erasure(s) to {ledger}"
    assert PERSON.lower() not in ledger.read_text().lower()  # digests only
    _restore(backup)
    assert _held() == before  # the restore brought the person back, and lost the ledger
    assert db.session.scalar(select(ErasureLedgerEntry.id)) is None
    args = ["privacy", "reapply-erasures", "--ledger", str(ledger)]
    result = runner.invoke(app.cli, args, catch_exceptions=False)
    assert "erased 1 address(es) again in 1 account(s)" in result.output
    assert _held() == ([], [])
    again = runner.invoke(app.cli, ["privacy", "reapply-erasures"], catch_exceptions=False)
    assert "erased 0 address(es) again" in again.output  # the ledger is in the database now


def test_the_digest_needs_the_key_and_normalises_the_address(app):
    key = erasure_ledger.ledger_key(app.config["LEADCAMP"])
    assert erasure_ledger.digest(key, 1, "Ana.Ruiz@Example.test ") == erasure_ledger.digest(
        key, 1, "ana.ruiz@example.test"
    )
    other = erasure_ledger.ledger_key(app.config["LEADCAMP"].replace(erasure_ledger_key="k2"))
    assert erasure_ledger.digest(other, 1, PERSON) != erasure_ledger.digest(key, 1, PERSON)
    assert erasure_ledger.digest(key, 2, PERSON) != erasure_ledger.digest(key, 1, PERSON)
