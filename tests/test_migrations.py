"""Schema migrations on SQLite and PostgreSQL: a database of the previous release keeps its rows
through `0003` (`model` renamed `embedder`), and the step can be undone."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import create_engine, inspect, text

from conftest import ROOT, database_urls, fresh_database


def migrate(engine, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


@pytest.mark.parametrize("url", database_urls())
def test_embedder_columns_keep_their_values(url, tmp_path):
    engine = create_engine(fresh_database(url, tmp_path))
    migrate(engine, "upgrade", "0002")
    vector = np.ones(4, np.float32).tobytes()
    with engine.begin() as c:
        c.execute(text("INSERT INTO speakers (id, workspace, name, notes, created_at) "
                       "VALUES ('s1', 'default', 'Alice', '', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO sessions (id, workspace, title, tag, language, duration, status, meta, created_at) "
                       "VALUES ('r1', 'default', '', '', 'en', 1.0, 'done', '{}', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO voiceprints (speaker_id, model, dimension, vector, source, speech_seconds, "
                       "created_at) VALUES ('s1', 'ge2e-4', 4, :v, '', 6.0, CURRENT_TIMESTAMP)"), {"v": vector})
        c.execute(text("INSERT INTO clusters (session_id, label, model, vector, speaker_id, score, speech_seconds) "
                       "VALUES ('r1', 'SPEAKER_00', 'ge2e-4', :v, 's1', 0.9, 6.0)"), {"v": vector})
    migrate(engine, "upgrade", "head")
    with engine.connect() as c:
        assert c.execute(text("SELECT speaker_id, embedder, vector FROM voiceprints")).all() == [("s1", "ge2e-4", vector)]
        assert c.execute(text("SELECT label, embedder, speaker_id FROM clusters")).all() == [("SPEAKER_00", "ge2e-4", "s1")]
    indexes = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("voiceprints")}
    assert indexes["ix_voiceprints_embedder"] == ["embedder"] and "ix_voiceprints_model" not in indexes
    migrate(engine, "downgrade", "0002")
    with engine.connect() as c:
        assert c.execute(text("SELECT model FROM voiceprints")).all() == [("ge2e-4",)]
        assert c.execute(text("SELECT model FROM clusters")).all() == [("ge2e-4",)]
    engine.dispose()
