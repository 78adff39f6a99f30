"""Database engine, schema upgrades, and the lookups every repository module shares.

SQLite file by default, PostgreSQL by URL. A SQLAlchemy session is called `db` everywhere
("session" is a transcribed recording); each operation of the repository modules is one unit of
work on the `db` it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession, sessionmaker

from hearback.errors import ConfigError, ConflictError, NotFoundError, check_text
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SQLITE_BUSY_SECONDS = 30  # the job thread writes while the API reads: wait for the lock, not fail
UPGRADE_LOCK = 0x4845415242  # PostgreSQL advisory lock held while one replica upgrades the schema
Row = TypeVar("Row")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")  # ON DELETE CASCADE / SET NULL need it
            cursor.execute("PRAGMA journal_mode=WAL")  # the job runner writes while the API reads
            cursor.close()

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:
        raise ConfigError(f"DATABASE_URL is not usable ({exc})") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """`alembic upgrade head` (or to `revision`: a restore) on this engine (the service does it on start)."""
    from alembic.config import Config

    from alembic import command

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # replicas starting together upgrade one at a time
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


class Database:
    """The engine and a factory of `db` sessions (objects stay readable after commit)."""

    def __init__(self, settings: Settings):
        self.engine = make_engine(settings.database)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> "Database":
        upgrade(self.engine)
        return self

    def open(self) -> DbSession:
        return self._factory()


def get_owned(db: DbSession, model: type[Row], key: object, workspace: str, missing: NotFoundError) -> Row:
    """The row `key` of `model` if it exists in `workspace`; else `missing` is raised (a 404).

    Another workspace's row is reported as missing, so ids reveal nothing across workspaces; an id
    holding a NUL byte or a control character is refused (PostgreSQL cannot even look it up)."""
    if isinstance(key, str):
        check_text("an id", key)
    row = db.get(model, key)
    if row is None or getattr(row, "workspace") != workspace:
        raise missing
    return row


def flush_or_conflict(db: DbSession, conflict: ConflictError) -> None:
    """Write pending changes now, so that a broken unique rule surfaces as `conflict` (a 409)."""
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise conflict from None
