"""Gmail: connected mailboxes, pending OAuth round trips, the sending switch, confirmed messages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('gmail_mailboxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('google_sub', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_encrypted', sa.Text(), nullable=False),
    sa.Column('access_token_encrypted', sa.Text(), nullable=True),
    sa.Column('access_token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('history_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_detail', sa.Text(), nullable=False),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_gmail_mailboxes_account_id_accounts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_gmail_mailboxes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gmail_mailboxes')),
    sa.UniqueConstraint('user_id', name=op.f('uq_gmail_mailboxes_user_id'))
    )
    with op.batch_alter_table('gmail_mailboxes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gmail_mailboxes_account_id'), ['account_id'], unique=False)

    op.create_table('oauth_states',
    sa.Column('state', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_states_user_id_users')),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_oauth_states'))
    )

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sending_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rfc_message_id', sa.String(length=998), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_rfc_message_id'), ['rfc_message_id'], unique=False)


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_rfc_message_id'))
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('rfc_message_id')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('sending_enabled')

    op.drop_table('oauth_states')
    with op.batch_alter_table('gmail_mailboxes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gmail_mailboxes_account_id'))

    op.drop_table('gmail_mailboxes')
