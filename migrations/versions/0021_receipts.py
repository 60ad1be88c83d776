"""Message summaries keep the time of the last bounce, so the inbox's receipts say when a message
bounced without reading events (which retention purges); summaries of messages that bounced
before get it from their bounce events.

Revision ID: 0021_receipts
Revises: 0020_gmail_watch
Create Date: 2026-12-05 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021_receipts"
down_revision = "0020_gmail_watch"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('message_summaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_bounce_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE message_summaries SET last_bounce_at = ("
        "SELECT max(events.occurred_at) FROM events "
        "WHERE events.message_id = message_summaries.message_id AND events.kind = 'bounce'"
        ") WHERE bounces > 0"
    )


def downgrade():
    with op.batch_alter_table('message_summaries', schema=None) as batch_op:
        batch_op.drop_column('last_bounce_at')
