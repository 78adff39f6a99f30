"""consent, audit log, voiceprint origin and kept audio

- `consents`: who consented to a speaker's voiceprints, when, how, with an optional note.
- `audit_log`: consents, enrolments, enrichments, exports, erasures and purges (who, when, what).
- `speakers.consent`: `given` (matched), `none`, `unknown`, `withdrawn`. Speakers that already had
  voiceprints before this migration are `unknown`: their consent was never recorded, so they are
  not matched until someone records it (`POST /speakers/{id}/consent`, `hearback speakers consent`).
- `voiceprints.origin` (`enrolment`, `named`: person-provided; `enriched`: automatic), `quality`,
  `audio_key` (the kept enrolment audio) and `consent_id`. Voiceprints made from a session's
  cluster (their source reads "session ...") become `named`, the others `enrolment`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision, down_revision, branch_labels, depends_on = '0006', '0005', None, None


def upgrade() -> None:
    op.create_table(
        'consents',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('speaker_id', sa.String(32), sa.ForeignKey('speakers.id', ondelete='CASCADE'), nullable=False,
                  index=True),
        sa.Column('given_by', sa.String(200), nullable=False),
        sa.Column('method', sa.String(20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.String(200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    )
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('workspace', sa.String(100), nullable=False, index=True),
        sa.Column('at', sa.DateTime(), nullable=False, index=True),
        sa.Column('actor', sa.String(200), nullable=False),
        sa.Column('action', sa.String(30), nullable=False, index=True),
        sa.Column('speaker_id', sa.String(32), nullable=True, index=True),
        sa.Column('detail', sa.JSON(), nullable=False),
    )
    with op.batch_alter_table('speakers') as batch:
        batch.add_column(sa.Column('consent', sa.String(20), nullable=False, server_default='none'))
    with op.batch_alter_table('voiceprints') as batch:
        batch.add_column(sa.Column('origin', sa.String(20), nullable=False, server_default='enrolment'))
        batch.add_column(sa.Column('quality', sa.Float(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('audio_key', sa.String(300), nullable=False, server_default=''))
        batch.add_column(sa.Column('consent_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_voiceprints_consent', 'consents', ['consent_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE voiceprints SET origin = 'named' WHERE source LIKE 'session %'")
    op.execute("UPDATE speakers SET consent = 'unknown' WHERE id IN (SELECT speaker_id FROM voiceprints)")


def downgrade() -> None:
    with op.batch_alter_table('voiceprints') as batch:
        batch.drop_constraint('fk_voiceprints_consent', type_='foreignkey')
        batch.drop_column('consent_id')
        batch.drop_column('audio_key')
        batch.drop_column('quality')
        batch.drop_column('origin')
    with op.batch_alter_table('speakers') as batch:
        batch.drop_column('consent')
    op.drop_table('audit_log')
    op.drop_table('consents')
