"""The erasure ledger: keyed digests of erased addresses, so erasures can be applied again after a
backup is restored.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erasure_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('erasure_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_erasure_ledger_account_digest', ['account_id', 'digest'], unique=False)


def downgrade():
    with op.batch_alter_table('erasure_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_erasure_ledger_account_digest')

    op.drop_table('erasure_ledger')
