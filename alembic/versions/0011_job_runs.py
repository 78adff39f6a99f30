"""a job's run token: `jobs.run_id`

Each run of a job (a replica's claim of it) writes a new token; every later write of that run
(progress, events, result, failure) is conditional on the token still being its own, so that a
replica that lost its lease and went on writes nothing over the run that took the job over.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00
"""
import sqlalchemy as sa

from alembic import op

revision, down_revision, branch_labels, depends_on = '0011', '0010', None, None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('run_id', sa.String(32), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('run_id')
