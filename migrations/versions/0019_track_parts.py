"""Messages record which parts the sender tracked: opens (the pixel) and links (the redirects),
so a status can say "opens not tracked" rather than "not opened". Existing messages tracked both.

Revision ID: 0019_track_parts
Revises: 0018_follow_ups
Create Date: 2026-12-05 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019_track_parts"
down_revision = "0018_follow_ups"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('track_opens', sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('track_links', sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('track_links')
        batch_op.drop_column('track_opens')
