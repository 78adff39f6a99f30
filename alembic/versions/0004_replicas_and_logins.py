"""replicas and logins: voiceprint change log, per-login tokens, webhook claim, job queue

- `voiceprint_changes`: one row per voiceprint added, moved or removed, so that every replica
  brings its FAISS index in step with the database before it identifies (the database stays the
  truth; rows older than an hour are pruned).
- `logins`: one row per web login (the SHA-256 of its random token), with its expiry; logging out
  deletes it.
- `jobs.webhook_state`: '' until one replica claims the job's webhook ('sent'), so a job re-run
  after a crash never notifies twice.
- On PostgreSQL, procrastinate's own schema (its tables, types and functions, `procrastinate_*`):
  the queue that hands each job to exactly one replica. procrastinate is pinned (pyproject.toml);
  a newer version's schema changes come as a later migration with its migration files.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:40:00
"""
from alembic import op
import sqlalchemy as sa


revision, down_revision, branch_labels, depends_on = '0004', '0003', None, None
PROCRASTINATE_VERSION = "3.10.0"  # the version whose schema.sql this migration applies


def upgrade() -> None:
    op.create_table(
        'voiceprint_changes',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('voiceprint_id', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False, index=True),
    )
    op.create_table(
        'logins',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('key_digest', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False, index=True),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_state', sa.String(20), nullable=False, server_default=''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_procrastinate_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(DROP_PROCRASTINATE)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('webhook_state')
    op.drop_table('logins')
    op.drop_table('voiceprint_changes')


def _procrastinate_schema() -> str:
    from importlib.metadata import version

    from procrastinate.schema import SchemaManager

    installed = version("procrastinate")
    if installed != PROCRASTINATE_VERSION:
        raise RuntimeError(f"migration 0004 applies procrastinate {PROCRASTINATE_VERSION}'s schema, but "
                           f"{installed} is installed: install hearback's pinned version")
    return SchemaManager.get_schema()


# Everything procrastinate's schema created: its tables (with their triggers and indexes), then
# its functions and types, found by name.
DROP_PROCRASTINATE = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
                AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
    END LOOP;
END $$;
"""
