"""The random per-period keys of the address hashes, in ip_hash_keys: shared by every process,
deleted once their period has ended.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ip_hash_keys',
    sa.Column('period', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('key', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('period')
    )


def downgrade():
    op.drop_table('ip_hash_keys')
