"""Gmail push: when each mailbox's users.watch runs out (none: not watched).

Revision ID: 0020_gmail_watch
Revises: 0019_track_parts
Create Date: 2026-12-05 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020_gmail_watch"
down_revision = "0019_track_parts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('gmail_mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watch_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('gmail_mailboxes', schema=None) as batch_op:
        batch_op.drop_column('watch_expires_at')
