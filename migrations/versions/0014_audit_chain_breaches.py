"""The audit log's keyed hash chain (existing entries chained here) and, on SQLite, a guard against
replacing inserts; breach notification fields; user ids never reused on SQLite (AUTOINCREMENT).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 15:40:00.000000

"""
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa
from flask import current_app

from server.common import audit_chain
from server.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# SQLite's INSERT OR REPLACE deletes the old row without firing the delete trigger (unless
# recursive_triggers is on): refuse any insert of an id that is already there.
NO_REPLACE = (
    "CREATE TRIGGER audit_entries_no_replace BEFORE INSERT ON audit_entries "
    "WHEN EXISTS (SELECT 1 FROM audit_entries WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
)
NO_UPDATE = (
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('chain_key_id', sa.String(length=16), nullable=True))
    with op.batch_alter_table('breaches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authority_notified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('subjects_notified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('notification_reference', sa.String(length=200), nullable=False, server_default=''))
    _chain_existing_entries(sqlite)
    if sqlite:
        op.execute(NO_REPLACE)
        # A rebuild: AUTOINCREMENT cannot be added in place. Ids deleted before this migration
        # above the highest kept one may still come back once; none after it.
        with op.batch_alter_table('users', recreate='always', table_kwargs={'sqlite_autoincrement': True}) as batch_op:
            pass


def _chain_existing_entries(sqlite):
    """Chain the entries written before the chain existed, in id order, with today's key."""
    entries = sa.table(
        'audit_entries', sa.column('id', sa.Integer), sa.column('account_id', sa.Integer),
        sa.column('at', UTCDateTime), sa.column('actor_id', sa.Integer),
        sa.column('actor', sa.String), sa.column('action', sa.String),
        sa.column('target', sa.String), sa.column('detail', sa.Text),
        sa.column('chain_hash', sa.String), sa.column('chain_key_id', sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(entries).order_by(entries.c.id)).mappings().all()
    if not rows:
        return
    key = audit_chain.derive(current_app.config["LEADCAMP"].audit_chain_secrets[0])
    # The append-only guard is lifted for these updates only (the migration runs as the owner).
    if sqlite:
        op.execute("DROP TRIGGER audit_entries_no_update")
    else:
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
    previous = audit_chain.GENESIS
    for row in rows:
        entry = SimpleNamespace(**{**row, "chain_key_id": audit_chain.key_id(key)})
        previous = audit_chain.link(key, previous, entry)
        bind.execute(
            entries.update().where(entries.c.id == row["id"])
            .values(chain_hash=previous, chain_key_id=entry.chain_key_id)
        )
    if sqlite:
        op.execute(NO_UPDATE)
    else:
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        with op.batch_alter_table('users', recreate='always', table_kwargs={'sqlite_autoincrement': False}) as batch_op:
            pass
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_replace")
    with op.batch_alter_table('breaches', schema=None) as batch_op:
        batch_op.drop_column('notification_reference')
        batch_op.drop_column('subjects_notified_at')
        batch_op.drop_column('authority_notified_at')
    # Dropping columns rebuilds the table on SQLite, which would lose its triggers: lift the
    # guard, drop, and put the guard back as migration 0004 made it.
    triggers = []
    if sqlite:
        triggers = bind_triggers()
        for name, _ in triggers:
            op.execute(f'DROP TRIGGER "{name}"')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('chain_key_id')
        batch_op.drop_column('chain_hash')
    for _, sql in triggers:
        op.execute(sql)


def bind_triggers():
    """The SQLite triggers on audit_entries, as (name, sql), except the one this adds."""
    rows = op.get_bind().execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'"
    )).all()
    return [(name, sql) for name, sql in rows if name != 'audit_entries_no_replace']
