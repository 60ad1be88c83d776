"""Report roll-ups: per rep and UTC day, the counts and delays reports add up.

Revision ID: 0026_report_rollups
Revises: 0025_reports
Create Date: 2026-12-06 02:50:00.000000

Every rep-day existing messages and summaries have is marked stale; the roll-up job (or the
first report reading it) computes them from the summaries, as it does after any change.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0026_report_rollups"
down_revision = "0025_reports"
branch_labels = None
depends_on = None

_COUNTS = (
    "sent",
    "open_base",
    "click_base",
    "opened",
    "clicked",
    "replied",
    "bounced",
    "n_human",
    "n_proxy",
    "n_machine",
    "n_scanner",
    "n_prefetch",
    "n_bot",
    "n_self",
)


def upgrade():
    op.create_table(
        "report_rollups",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in _COUNTS),
        sa.Column("open_delays", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("reply_delays", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("marks", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("built", sa.Integer(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        day = "CAST(timezone('UTC', sent_at) AS DATE)"
    else:
        day = "date(sent_at)"
    keys = " UNION ".join(
        f"SELECT account_id, user_id, {day} FROM {table}"
        " WHERE sent_at IS NOT NULL AND user_id IS NOT NULL"
        for table in ("messages", "message_summaries")
    )
    op.execute(f"INSERT INTO report_rollups (account_id, user_id, day) {keys}")


def downgrade():
    op.drop_table("report_rollups")
