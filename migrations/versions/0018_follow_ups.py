"""Follow-up reminders: "remind me if no reply in N days" on a rep's sent message.

Revision ID: 0018_follow_ups
Revises: 0017_gmail_health
Create Date: 2026-12-05 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018_follow_ups"
down_revision = "0017_gmail_health"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notice_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_follow_ups_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_notice_id'), ['notice_id'], unique=False)


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_notice_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_user_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_account_id'))
        batch_op.drop_index('ix_follow_ups_state_due')

    op.drop_table('follow_ups')
