"""Reports: message summaries carry their message's rep, sending time and tracked parts, and the
first reply's time; messages and summaries are indexed by sending time.

Revision ID: 0025_reports
Revises: 0024_open_invitation
Create Date: 2026-12-06 01:40:00.000000

Reports read a period's messages and summaries by (account, sent_at), each from its own index
without a join; the median time to reply needs the first reply, which summaries did not keep
(only the last). Existing summaries get all of it from their messages and events.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0025_reports"
down_revision = "0024_open_invitation"
branch_labels = None
depends_on = None

_REPORT_COLUMNS = (
    "account_id", "sent_at", "user_id", "opens_tracked", "links_tracked",
    "first_open_at", "first_reply_at", "clicks", "replies", "bounces",
    "n_human", "n_proxy", "n_machine", "n_scanner", "n_prefetch", "n_bot", "n_self",
)
_FROM_MESSAGE = {
    "user_id": "messages.user_id",
    "sent_at": "messages.sent_at",
    "opens_tracked": "messages.tracked AND messages.track_opens",
    "links_tracked": "messages.tracked AND messages.track_links",
}


def upgrade():
    with op.batch_alter_table("message_summaries") as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("opens_tracked", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("links_tracked", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
    for column, value in _FROM_MESSAGE.items():
        op.execute(
            f"UPDATE message_summaries SET {column} = (SELECT {value} FROM messages"
            " WHERE messages.id = message_summaries.message_id)"
        )
    op.execute(
        "UPDATE message_summaries SET first_reply_at = (SELECT min(events.occurred_at) FROM events"
        " WHERE events.message_id = message_summaries.message_id AND events.kind = 'reply')"
        " WHERE replies > 0"
    )
    # Everything a report aggregates, so it reads the index alone.
    op.create_index("ix_message_summaries_report", "message_summaries", list(_REPORT_COLUMNS))
    op.create_index(
        "ix_messages_account_sent",
        "messages",
        ["account_id", "sent_at", "user_id", "tracked", "track_opens", "track_links"],
    )


def downgrade():
    op.drop_index("ix_messages_account_sent", table_name="messages")
    op.drop_index("ix_message_summaries_report", table_name="message_summaries")
    with op.batch_alter_table("message_summaries") as batch_op:
        for column in ("first_reply_at", "links_tracked", "opens_tracked", "sent_at", "user_id"):
            batch_op.drop_column(column)
