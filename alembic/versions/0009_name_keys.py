"""names that look the same collide: `speakers.name_key` and `groups.name_key`

The key is the name as two names are compared (`database.folding.name_key`: NFKC, no invisible
characters, case and accents aside, Cyrillic and Greek lookalikes read as Latin), unique per workspace.
Existing rows are backfilled; two existing names with one key (made before this rule) keep their
rows: the later one's key is suffixed with its id, and a new name like either is refused.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00
"""
import sqlalchemy as sa

from alembic import op
from database.folding import NAME_KEY_LENGTH, name_key

revision, down_revision, branch_labels, depends_on = '0009', '0008', None, None
TABLES = {'speakers': 'uq_speaker_name_key', 'groups': 'uq_group_name_key'}


def upgrade() -> None:
    for table, constraint in TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('name_key', sa.String(NAME_KEY_LENGTH), nullable=False, server_default=''))
        _backfill(op.get_bind(), table)
        with op.batch_alter_table(table) as batch:
            batch.create_unique_constraint(constraint, ['workspace', 'name_key'])


def _backfill(connection, name: str) -> None:
    table = sa.table(name, sa.column('id', sa.String()), sa.column('workspace', sa.String()),
                     sa.column('name', sa.String()), sa.column('name_key', sa.String()))
    seen: set[tuple[str, str]] = set()
    for id_, workspace, text in connection.execute(sa.select(table.c.id, table.c.workspace, table.c.name)
                                                   .order_by(table.c.id)).all():
        key = name_key(text)
        if (workspace, key) in seen:
            key = f"{key}#{id_}"
        seen.add((workspace, key))
        connection.execute(table.update().where(table.c.id == id_).values(name_key=key))


def downgrade() -> None:
    for table, constraint in TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(constraint, type_='unique')
            batch.drop_column('name_key')
