"""voiceprints and clusters: column `model` renamed `embedder`

"Embedder" is the one word for the model that made a vector. Batch mode, so that SQLite (which
renames columns only by copying the table) and PostgreSQL (ALTER ... RENAME) both take it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:00:00
"""
from alembic import op


revision, down_revision, branch_labels, depends_on = '0003', '0002', None, None


def upgrade() -> None:
    with op.batch_alter_table('voiceprints', schema=None) as batch_op:
        batch_op.drop_index('ix_voiceprints_model')
        batch_op.alter_column('model', new_column_name='embedder')
    op.create_index('ix_voiceprints_embedder', 'voiceprints', ['embedder'], unique=False)
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.alter_column('model', new_column_name='embedder')


def downgrade() -> None:
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.alter_column('embedder', new_column_name='model')
    with op.batch_alter_table('voiceprints', schema=None) as batch_op:
        batch_op.drop_index('ix_voiceprints_embedder')
        batch_op.alter_column('embedder', new_column_name='model')
    op.create_index('ix_voiceprints_model', 'voiceprints', ['model'], unique=False)
