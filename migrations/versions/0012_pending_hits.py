"""Signed hits on messages not reported yet wait in pending_hits, apart from events, until their
message exists and belongs to the signing key's rep.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_hits',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pending_hits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_hits_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_hits_received_at'), ['received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_hits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_hits_received_at'))
        batch_op.drop_index(batch_op.f('ix_pending_hits_message_id'))

    op.drop_table('pending_hits')
