"""Sub-processor entries say what they are used for and from when (the list drives processing);
changes say when they take effect. Lists seeded before get their services, Google's entry, and
are in effect since they were created.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 15:30:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

GOOGLE = {
    "name": "Google (Google LLC; Google Ireland Limited)",
    "country": "United States; Ireland",
    "purpose": "Sign-in with Google (OAuth) and the Gmail API: the rep's Google account and the "
    "metadata of the rep's tracked threads (replies, bounces)",
    "safeguard": "EU-U.S. Data Privacy Framework; Standard Contractual Clauses",
    "service": "google",
}


def upgrade():
    with op.batch_alter_table('sub_processors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('effective_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sub_processor_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE sub_processors SET effective_at = created_at")
    op.execute("UPDATE sub_processors SET service = 'enrichment' WHERE name = 'Clearbit (HubSpot, Inc.)'")
    op.execute("UPDATE sub_processors SET service = 'hosting' WHERE purpose LIKE 'Hosting:%'")
    op.execute("UPDATE sub_processor_changes SET effective_at = announced_at")
    with op.batch_alter_table('sub_processors', schema=None) as batch_op:
        batch_op.alter_column('effective_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    # Google was always used (sign-in, Gmail) but never listed: add it to every seeded list.
    bind = op.get_bind()
    seeded = bind.execute(sa.text(
        "SELECT DISTINCT account_id FROM sub_processors UNION "
        "SELECT DISTINCT account_id FROM sub_processor_changes"
    )).scalars().all()
    now = datetime.now(timezone.utc)
    table = sa.table(
        'sub_processors', *(sa.column(c) for c in (*GOOGLE, 'account_id', 'created_at', 'effective_at'))
    )
    rows = [GOOGLE | {"account_id": a, "created_at": now, "effective_at": now} for a in seeded]
    if rows:
        op.bulk_insert(table, rows)


def downgrade():
    op.execute("DELETE FROM sub_processors WHERE service = 'google'")
    with op.batch_alter_table('sub_processor_changes', schema=None) as batch_op:
        batch_op.drop_column('effective_at')
    with op.batch_alter_table('sub_processors', schema=None) as batch_op:
        batch_op.drop_column('effective_at')
        batch_op.drop_column('service')
