"""Backups: one archive holding a consistent snapshot of the database and the kept enrolment audio,
and its restore into an empty database (SQLite or PostgreSQL, either way), after which the FAISS
index is rebuilt from the restored voiceprints.

Consistent: SQLite is copied with its online backup API (one snapshot, even while the service
writes), PostgreSQL is read in one REPEATABLE READ transaction; the kept audio taken is exactly the
audio the snapshot's voiceprints point at. The archive (tar.gz) holds `manifest.json` (format,
schema revision, each table's columns and row count), `tables/<name>.jsonl` (one JSON array per
row; binary columns in base64, times in ISO 8601) and `voices/<key>` (the kept samples). Restore
upgrades the empty database to the snapshot's schema revision, loads the rows, then upgrades it to
this release's schema, so an older backup loads into a newer Hearback.

Named API keys are in a backup (their digests, never a token). Not in a backup: web logins
(`logins`: people log in again), the voiceprint change log (the index
is rebuilt), and PostgreSQL's job queue tables (unfinished jobs are queued again at start).
"""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, DateTime, LargeBinary, MetaData, Table, create_engine, func, select, text
from sqlalchemy.pool import NullPool

from database import audit
from database.clock import now
from database.engine import Database, upgrade
from hearback.errors import ConflictError, InputError
from sessions.tables import Session
from speakers import index_sync
from speakers.matching import FaissMatcher
from speakers.tables import Speaker
from speakers.voice_audio import VoiceAudio

FORMAT = 1
SKIPPED = {"alembic_version", "logins", "voiceprint_changes"}
SKIPPED_PREFIX = "procrastinate"
BATCH = 1000  # rows read or inserted at a time


@dataclass
class Snapshot:
    path: Path
    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    audio: int = 0
    audio_missing: list[str] = field(default_factory=list)


@dataclass
class Restored:
    revision: str
    rows: dict[str, int]
    audio: int
    voiceprints_indexed: int


def backup(database: Database, voices: VoiceAudio, path: Path) -> Snapshot:
    """Write the archive to `path` (through a temporary file beside it: never half an archive)."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="hearback-backup-") as folder, _snapshot(database, Path(folder)) as conn:
        manifest: dict[str, Any] = {"format": FORMAT, "created_at": now().isoformat(timespec="seconds"),
                                    "dialect": database.engine.dialect.name, "tables": []}
        manifest["revision"] = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        snapshot = Snapshot(path, manifest["revision"])
        with tarfile.open(partial, "w:gz") as archive:
            for table in _tables(conn):
                described = _describe(table)
                dump = Path(folder) / f"{table.name}.jsonl"
                described["rows"] = _dump(conn, table, described, dump)
                archive.add(dump, f"tables/{table.name}.jsonl")
                manifest["tables"].append(described)
                snapshot.rows[table.name] = described["rows"]
            keys = conn.execute(text("SELECT audio_key FROM voiceprints WHERE audio_key != ''")).scalars().all()
            for key in keys:
                try:
                    with voices.local(key) as sample:
                        archive.add(sample, f"voices/{key}")
                    snapshot.audio += 1
                except Exception:  # deleted by hand or unreachable: the manifest says which
                    snapshot.audio_missing.append(key)
            manifest["audio"], manifest["audio_missing"] = snapshot.audio, snapshot.audio_missing
            _add_json(archive, "manifest.json", manifest, Path(folder))
    partial.replace(path)
    return snapshot


def restore(database: Database, voices: VoiceAudio, path: Path, actor: str, workspace: str = "default") -> Restored:
    """Load the archive at `path` into `database`, which must hold no speaker or session yet."""
    try:
        archive = tarfile.open(path, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise InputError(f"{path} is not a Hearback backup ({exc})", "not_a_backup") from None
    with archive:
        manifest = _manifest(archive, path)
        _check_empty(database)
        upgrade(database.engine, manifest["revision"])
        with database.engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            for described in manifest["tables"]:
                _load(conn, meta.tables[described["name"]], described, archive)
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, [meta.tables[d["name"]] for d in manifest["tables"]])
        upgrade(database.engine)
        audio = _restore_audio(archive, voices)
    with database.open() as db:
        audit.record(db, workspace, actor, "restore", None, backup=Path(path).name, revision=manifest["revision"],
                     created_at=manifest["created_at"], audio=audio)
        db.commit()
        indexed = index_sync.reload(db, FaissMatcher())
    return Restored(manifest["revision"], {d["name"]: d["rows"] for d in manifest["tables"]}, audio, indexed)


@contextlib.contextmanager
def _snapshot(database: Database, folder: Path) -> Iterator[Connection]:
    """A connection that sees one instant of the database, for as long as the block runs."""
    engine = database.engine
    copy = None
    if engine.dialect.name == "sqlite":
        with engine.connect() as live:  # sqlite3's online backup: a consistent copy while others write
            target = sqlite3.connect(folder / "snapshot.db")
            live.connection.dbapi_connection.backup(target)
            target.close()
        engine = copy = create_engine(f"sqlite:///{folder / 'snapshot.db'}", poolclass=NullPool)
    conn = engine.connect()
    if copy is None:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    try:
        conn.begin()
        yield conn
    finally:
        conn.rollback()
        conn.close()
        if copy is not None:
            copy.dispose()


def _tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name not in SKIPPED and not t.name.startswith(SKIPPED_PREFIX)]


def _describe(table: Table) -> dict[str, Any]:
    columns = [c.name for c in table.columns]
    return {"name": table.name, "columns": columns,
            "binary": [c.name for c in table.columns if isinstance(c.type, LargeBinary)],
            "datetime": [c.name for c in table.columns if isinstance(c.type, DateTime)]}


def _dump(conn: Connection, table: Table, described: dict[str, Any], target: Path) -> int:
    binary, times = set(described["binary"]), set(described["datetime"])
    count = 0
    with target.open("w", encoding="utf-8") as out:
        result = conn.execution_options(yield_per=BATCH).execute(select(*table.columns))
        for row in result:
            values = [_encode(value, name in binary, name in times) for name, value in zip(described["columns"], row)]
            out.write(json.dumps(values, ensure_ascii=False) + "\n")
            count += 1
    return count


def _encode(value: Any, binary: bool, time: bool) -> Any:
    if value is None:
        return None
    if binary:
        return base64.b64encode(bytes(value)).decode("ascii")
    if time:
        return value.isoformat() if isinstance(value, datetime) else str(value)
    return value


def _decode(value: Any, binary: bool, time: bool) -> Any:
    if value is None:
        return None
    if binary:
        return base64.b64decode(value)
    if time:
        return datetime.fromisoformat(value)
    return value


def _manifest(archive: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, ValueError, tarfile.TarError):
        raise InputError(f"{path} is not a Hearback backup (no manifest.json)", "not_a_backup") from None
    if manifest.get("format") != FORMAT:
        raise InputError(f"{path} is a backup of format {manifest.get('format')!r}; this release reads {FORMAT}",
                         "not_a_backup")
    return manifest


def _check_empty(database: Database) -> None:
    with database.engine.connect() as conn:
        if not database.engine.dialect.has_table(conn, "speakers"):
            return
        held = sum(conn.execute(select(func.count()).select_from(model)).scalar_one() for model in (Speaker, Session))
    if held:
        raise ConflictError(f"the database already holds {held} speakers and sessions: restore into an empty one "
                            "(a new SQLite file, or a new PostgreSQL database with createdb)", "database_not_empty")


def _load(conn: Connection, table: Table, described: dict[str, Any], archive: tarfile.TarFile) -> None:
    binary, times, columns = set(described["binary"]), set(described["datetime"]), described["columns"]
    batch: list[dict[str, Any]] = []
    for line in _lines(archive, f"tables/{described['name']}.jsonl"):
        values = json.loads(line)
        batch.append({name: _decode(v, name in binary, name in times) for name, v in zip(columns, values)})
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def _lines(archive: tarfile.TarFile, name: str) -> Iterator[str]:
    member = archive.extractfile(name)
    if member is None:
        raise InputError(f"the backup lacks {name}", "not_a_backup")
    for raw in member:
        if raw.strip():
            yield raw.decode("utf-8")


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: the next id after the restored ones."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, '
                                  'false)'), {"s": sequence})


def _restore_audio(archive: tarfile.TarFile, voices: VoiceAudio) -> int:
    count = 0
    with tempfile.TemporaryDirectory(prefix="hearback-restore-") as folder:
        for member in archive:
            if not member.isfile() or not member.name.startswith("voices/"):
                continue
            key = member.name[len("voices/"):]
            sample = Path(folder) / "sample.wav"
            sample.write_bytes(archive.extractfile(member).read())
            voices.put(key, sample)
            count += 1
    return count


def _add_json(archive: tarfile.TarFile, name: str, value: Any, folder: Path) -> None:
    path = folder / name
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    archive.add(path, name)
