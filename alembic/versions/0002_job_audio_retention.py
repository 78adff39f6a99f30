"""job audio retention and events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audio_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('events', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_index(batch_op.f('ix_jobs_audio_expires_at'), ['audio_expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_audio_expires_at'))
        batch_op.drop_column('events')
        batch_op.drop_column('audio_expires_at')
