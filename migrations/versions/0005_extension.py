"""One-time connect codes for the Gmail extension.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('extension_connect_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('challenge', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_extension_connect_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_connect_codes')),
    sa.UniqueConstraint('digest', name=op.f('uq_extension_connect_codes_digest'))
    )
    with op.batch_alter_table('extension_connect_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_connect_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('extension_connect_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extension_connect_codes_user_id'))

    op.drop_table('extension_connect_codes')
