"""the steps a job's progress went through (`jobs.progress_trail`), and the service's own secrets

A page polls a job a few times a second, but the short stages of a short recording (who speaks,
names, saving) last less than one poll: the trail keeps the last steps reached, so that the page
shows each of them in turn. `service_secrets` holds a secret the service makes for itself once
(the key that seals page messages when no HEARBACK_API_KEY is set), the same on every replica and
after a restart.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:00:00
"""
import sqlalchemy as sa

from alembic import op

revision, down_revision, branch_labels, depends_on = '0012', '0011', None, None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('progress_trail', sa.JSON(), nullable=True))
    op.create_table(
        'service_secrets',
        sa.Column('name', sa.String(50), primary_key=True),
        sa.Column('value', sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('service_secrets')
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('progress_trail')
