"""search without accents or case; a segment's language; a failed job's error code

- `utterances.search_text`: the text folded (lower case, no accents: `database.folding.fold`) so that
  "differences" finds "différences" on SQLite and PostgreSQL alike; existing rows are backfilled.
- `utterances.language`: the language each segment was heard in (empty for older sessions).
- `jobs.error_code`, `jobs.error_details`: the failed job's error as a code and its values, so that
  the web pages word it in the reader's language.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa

from alembic import op
from database.folding import fold

revision, down_revision, branch_labels, depends_on = '0007', '0006', None, None
BATCH = 1000  # utterances backfilled at a time


def upgrade() -> None:
    with op.batch_alter_table('utterances') as batch:
        batch.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('language', sa.String(10), nullable=False, server_default=''))
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('error_code', sa.String(50), nullable=False, server_default=''))
        batch.add_column(sa.Column('error_details', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    _backfill(op.get_bind())


def _backfill(connection) -> None:
    utterances = sa.table('utterances', sa.column('id', sa.Integer()), sa.column('text', sa.Text()),
                          sa.column('search_text', sa.Text()))
    last = 0
    while True:
        rows = connection.execute(sa.select(utterances.c.id, utterances.c.text).where(utterances.c.id > last)
                                  .order_by(utterances.c.id).limit(BATCH)).all()
        if not rows:
            return
        connection.execute(utterances.update().where(utterances.c.id == sa.bindparam('row_id'))
                           .values(search_text=sa.bindparam('folded')),
                           [{'row_id': row_id, 'folded': fold(text or '')} for row_id, text in rows])
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('error_details')
        batch.drop_column('error_code')
    with op.batch_alter_table('utterances') as batch:
        batch.drop_column('language')
        batch.drop_column('search_text')
