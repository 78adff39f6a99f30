"""summaries: what a language model made of a session, and its action items per speaker

- `summaries`: one row per session (pending, done or failed with its reason and code), the
  summary's JSON, the model that wrote it, its progress while pending.
- `action_items`: the summary's action items, each owned by an enrolled speaker, a cluster of the
  session not named yet, or a person only named; indexed by speaker for `GET /speakers/{id}/actions`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision, down_revision, branch_labels, depends_on = '0005', '0004', None, None


def upgrade() -> None:
    op.create_table(
        'summaries',
        sa.Column('session_id', sa.String(32), sa.ForeignKey('sessions.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('state', sa.String(20), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('progress', sa.Float(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('code', sa.String(50), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('model', sa.String(300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'action_items',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('session_id', sa.String(32), sa.ForeignKey('sessions.id', ondelete='CASCADE'), nullable=False,
                  index=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('speaker_id', sa.String(32), sa.ForeignKey('speakers.id', ondelete='SET NULL'), nullable=True),
        sa.Column('cluster_label', sa.String(50), nullable=False),
        sa.Column('owner', sa.String(200), nullable=False),
        sa.Column('task', sa.Text(), nullable=False),
        sa.Column('due', sa.String(200), nullable=True),
        sa.Column('quote_start', sa.Float(), nullable=False),
    )
    op.create_index('ix_action_item_speaker', 'action_items', ['speaker_id', 'session_id'])


def downgrade() -> None:
    op.drop_index('ix_action_item_speaker', table_name='action_items')
    op.drop_table('action_items')
    op.drop_table('summaries')
