"""Alembic environment: the URL comes from the caller's config or from Hearback's settings."""

from sqlalchemy import engine_from_config, pool

import api.keys
import api.logins
import database.audit
import database.secrets
import jobs.table
import sessions.tables
import speakers.tables
from alembic import context
from database.base import Base
from service.settings import Settings

# every table of the service registers itself on Base.metadata when its module is imported
TABLE_MODULES = (api.logins, database.audit, jobs.table, sessions.tables, speakers.tables)

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
