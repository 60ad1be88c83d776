"""Gmail health: when the rep was told their mailbox stopped syncing.

Revision ID: 0017_gmail_health
Revises: 0016
Create Date: 2026-12-05 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017_gmail_health"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('gmail_mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health_notified_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('gmail_mailboxes', schema=None) as batch_op:
        batch_op.drop_column('health_notified_at')
