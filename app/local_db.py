"""The database the command line works on: the service's own (SQLite in HEARBACK_DATA_DIR unless
DATABASE_URL names another), brought to the current schema first."""

from __future__ import annotations

from service.settings import Settings


def open_database(settings: Settings):
    from database.engine import Database

    return Database(settings).upgrade()
