"""The audit trail records what happened and cannot be changed, not even with raw SQL."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from server.accounts import users as accounts
from server.common import audit
from server.extensions import db
from server.models import AuditEntry


def _actions(account_id: int) -> list[str]:
    return [e.action for e in reversed(audit.search(db.session, account_id))]


def test_tokens_and_keys_are_recorded(app, admin):
    token = accounts.create_api_token(db.session, admin, "laptop")
    accounts.rotate_signing_key(db.session, admin)
    accounts.rotate_signing_key(db.session, admin)
    accounts.revoke_api_token(db.session, token)
    db.session.commit()
    assert _actions(admin.account_id) == [
        "token.create",
        "key.create",
        "key.retire",
        "key.create",
        "token.revoke",
    ]
    assert token not in str([e.detail for e in audit.search(db.session, admin.account_id)])


def test_the_cli_is_recorded_too(app, admin):
    runner = CliRunner()
    result = runner.invoke(app.cli, ["tokens", "create", admin.email], catch_exceptions=False)
    assert result.exit_code == 0
    assert "token.create" in _actions(admin.account_id)


def test_search_filters_by_text_and_action_and_exports_csv(app, admin):
    audit.record(db.session, admin.account_id, "team.invite", actor=admin, target="invitation #7")
    audit.record(db.session, admin.account_id, "sign_in", actor=admin, detail="magic link")
    audit.record(db.session, admin.account_id + 1, "sign_in", detail="another account")
    db.session.commit()
    assert [e.target for e in audit.search(db.session, admin.account_id, "invitation")] == [
        "invitation #7"
    ]
    assert len(audit.search(db.session, admin.account_id, action="sign_in")) == 1
    csv_text = audit.to_csv(audit.search(db.session, admin.account_id))
    assert csv_text.splitlines()[0] == "id,at,actor,action,target,detail"
    assert "another account" not in csv_text


def test_the_csv_export_defuses_formulas(app, admin):
    """A target or detail taken from input (an invited address, a name) never runs as a formula."""
    audit.record(db.session, admin.account_id, "team.invite", actor=admin, target="=1+1")
    audit.record(db.session, admin.account_id, "sign_in", actor=admin, detail="@SUM(A1)")
    db.session.commit()
    rows = list(csv.reader(io.StringIO(audit.to_csv(audit.search(db.session, admin.account_id)))))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=1+1" in cells and "'@SUM(A1)" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_the_database_refuses_to_edit_or_delete_an_entry(app, admin):
    entry = audit.record(db.session, admin.account_id, "sign_in", actor=admin)
    db.session.commit()
    for statement in (
        update(AuditEntry).where(AuditEntry.id == entry.id).values(action="nothing"),
        delete(AuditEntry).where(AuditEntry.id == entry.id),
        text("DELETE FROM audit_entries"),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.id == entry.id)) == (
        "sign_in"
    )
