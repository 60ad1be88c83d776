"""Reports: the first reply's time in message summaries, and messages indexed by sending time.

Revision ID: 0023_reports
Revises: 0022_webhooks
Create Date: 2026-12-06 01:40:00.000000

Reports read a period's messages by (account, sent_at) or (rep, sent_at) and their summaries;
the median time to reply needs the first reply, which summaries did not keep (only the last).
Existing summaries get it from their events.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023_reports"
down_revision = "0022_webhooks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("message_summaries") as batch_op:
        batch_op.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE message_summaries SET first_reply_at = (SELECT min(events.occurred_at) FROM events"
        " WHERE events.message_id = message_summaries.message_id AND events.kind = 'reply')"
        " WHERE replies > 0"
    )
    op.create_index("ix_messages_account_sent", "messages", ["account_id", "sent_at"])
    op.create_index("ix_messages_user_sent", "messages", ["user_id", "sent_at"])


def downgrade():
    op.drop_index("ix_messages_user_sent", table_name="messages")
    op.drop_index("ix_messages_account_sent", table_name="messages")
    with op.batch_alter_table("message_summaries") as batch_op:
        batch_op.drop_column("first_reply_at")
