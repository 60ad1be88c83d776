"""The app's PostgreSQL role as docs/deployment.md grants it: it appends audit entries but cannot
change, delete or unguard them (the owner role that runs migrations could)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.common import audit
from server.extensions import db
from server.models import AuditEntry

DEPLOYMENT = Path(__file__).parents[2] / "docs" / "deployment.md"


def documented_grants(role: str, password: str) -> list[str]:
    """The SQL of the "database roles" section, for `role`."""
    section = DEPLOYMENT.read_text().split("### The database roles", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    sql = block.replace("leadcamp_app", role).replace("'...'", f"'{password}'")
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


@pytest.fixture
def app_role(app):
    """A role made and granted as documented, in the test database; dropped afterwards."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role, password = f"leadcamp_app_{secrets.token_hex(4)}", secrets.token_hex(12)
    with db.engine.begin() as conn:
        for statement in documented_grants(role, password):
            conn.execute(text(statement))
    engine = create_engine(db.engine.url.set(username=role, password=password))
    yield engine
    engine.dispose()
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))


def test_the_app_role_appends_but_cannot_change_or_unguard(app, admin, app_role):
    with Session(app_role) as session:
        entry = audit.record(session, admin.account_id, "sign_in", detail="as the app role")
        session.commit()
        entry_id = entry.id
    for statement in (
        f"UPDATE audit_entries SET detail = 'x' WHERE id = {entry_id}",
        f"DELETE FROM audit_entries WHERE id = {entry_id}",
        "TRUNCATE audit_entries",
        "ALTER TABLE audit_entries DISABLE TRIGGER USER",
    ):
        with app_role.connect() as conn, pytest.raises(DBAPIError, match=r"permission|owner"):
            conn.execute(text(statement))
    assert db.session.get(AuditEntry, entry_id).detail == "as the app role"
