"""Predictions: each account's latest backtest and the models it fitted (aggregates only).

Revision ID: 0023_backtests
Revises: 0022_webhooks
Create Date: 2026-12-06 01:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023_backtests"
down_revision = "0022_webhooks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "prediction_backtests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id"),
    )


def downgrade():
    op.drop_table("prediction_backtests")
