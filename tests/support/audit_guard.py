"""Emptying the append-only audit table between tests, past its database guard.

The app never does this; only the test suite's cleanup, which must leave an empty database.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def delete_audit_entries(conn: Connection) -> None:
    """Delete every audit entry in this transaction, keeping the guard in place afterwards."""
    if conn.dialect.name == "postgresql":
        # Triggers do not fire for a replica session; SET LOCAL ends with the transaction.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_entries"))
        conn.execute(text("SET LOCAL session_replication_role = origin"))
        return
    triggers = conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": "audit_entries"},
    ).all()
    for name, _ in triggers:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    conn.execute(text("DELETE FROM audit_entries"))
    for _, sql in triggers:
        conn.execute(text(sql))


def tamper(conn: Connection, statement: str, **params) -> None:
    """Run `statement` on audit_entries as a database owner would: triggers off, then back on."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        conn.execute(text(statement), params)
        conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
        return
    triggers = conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": "audit_entries"},
    ).all()
    for name, _ in triggers:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    conn.execute(text(statement), params)
    for _, sql in triggers:
        conn.execute(text(sql))
