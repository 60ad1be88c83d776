"""Tracking truth: each hit's evidence (for re-running verdicts) and the hit a self-view explains.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.String(length=255), nullable=True))
    with op.batch_alter_table('self_views', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_event_id', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('self_views', schema=None) as batch_op:
        batch_op.drop_column('claimed_event_id')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('evidence')
