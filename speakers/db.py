"""Database engine and schema upgrades (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from hearback.errors import ConfigError
from hearback.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` on this engine (the service does it on start)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    def __init__(self, settings: Settings):
        self.engine = make_engine(settings.database)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> "Database":
        upgrade(self.engine)
        return self

    def session(self) -> Session:
        return self.sessions()
