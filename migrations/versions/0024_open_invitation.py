"""One open invitation per address and account: a partial unique index.

Older duplicates are withdrawn first (the newest open one of each address stays).

Revision ID: 0024_open_invitation
Revises: 0023_backtests
Create Date: 2026-12-06 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0024_open_invitation"
down_revision = "0023_backtests"
branch_labels = None
depends_on = None

OPEN = "accepted_at IS NULL AND revoked_at IS NULL"


def upgrade():
    op.execute(
        sa.text(
            f"UPDATE invitations SET revoked_at = CURRENT_TIMESTAMP WHERE {OPEN} AND id < ("
            "SELECT MAX(newer.id) FROM invitations AS newer WHERE newer.account_id = "
            "invitations.account_id AND newer.email = invitations.email AND "
            "newer.accepted_at IS NULL AND newer.revoked_at IS NULL)"
        )
    )
    op.create_index(
        "uq_invitations_open_email",
        "invitations",
        ["account_id", "email"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade():
    op.drop_index("uq_invitations_open_email", table_name="invitations")
