"""Job runs: slow work handed from a request to the worker, its progress and outcome, and the
addresses each run holds data about.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_runs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('input', sa.JSON(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('files', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_job_runs_account_id_accounts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_job_runs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_job_runs_status_updated', ['status', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_runs_user_id'), ['user_id'], unique=False)

    op.create_table('job_run_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_job_run_addresses_account_id_accounts')),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.id'], name=op.f('fk_job_run_addresses_run_id_job_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run_addresses'))
    )
    with op.batch_alter_table('job_run_addresses', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_addresses_account_email', ['account_id', 'email'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_addresses_run_id'), ['run_id'], unique=False)



def downgrade():
    with op.batch_alter_table('job_run_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_addresses_run_id'))
        batch_op.drop_index('ix_job_run_addresses_account_email')

    op.drop_table('job_run_addresses')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_user_id'))
        batch_op.drop_index('ix_job_runs_status_updated')
        batch_op.drop_index('ix_job_runs_account_created')

    op.drop_table('job_runs')
