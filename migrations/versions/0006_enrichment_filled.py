"""What an enrichment answer filled in on its contact, so it can be taken back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrichments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filled', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('enrichments', schema=None) as batch_op:
        batch_op.drop_column('filled')
