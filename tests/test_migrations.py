"""Schema migrations on SQLite and PostgreSQL: a database of the previous release keeps its rows
through `0003` (`model` renamed `embedder`), and the step can be undone."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, database_urls, fresh_database
from sqlalchemy import create_engine, inspect, text


def migrate(engine, action: str, revision: str) -> None:
    from alembic.config import Config

    from alembic import command

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


@pytest.mark.parametrize("url", database_urls())
def test_summaries_and_action_items_match_their_models_and_go_with_their_session(url, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from database.base import Base

    engine = create_engine(fresh_database(url, tmp_path))
    migrate(engine, "upgrade", "0005")
    with engine.connect() as c:
        differences = [d for d in compare_metadata(MigrationContext.configure(c), Base.metadata)
                       if "summaries" in str(d) or "action_items" in str(d)]
    assert differences == []
    with engine.begin() as c:
        c.execute(text("INSERT INTO sessions (id, workspace, title, tag, language, duration, status, meta, created_at) "
                       "VALUES ('r1', 'default', '', '', 'fr', 1.0, 'done', '{}', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO summaries (session_id, state, kind, progress, reason, code, document, model, "
                       "created_at, updated_at) VALUES ('r1', 'done', 'meeting', 1.0, '', '', '{}', 'm', "
                       "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO action_items (session_id, position, cluster_label, owner, task, quote_start) "
                       "VALUES ('r1', 0, 'SPEAKER_00', 'SPEAKER_00', 'envoyer le rapport', 9.0)"))
    with engine.begin() as c:
        if url == "sqlite":
            c.execute(text("PRAGMA foreign_keys=ON"))  # as the service's engine does on every connection
        c.execute(text("DELETE FROM sessions"))
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM summaries")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM action_items")).scalar() == 0
    migrate(engine, "downgrade", "0004")
    assert not {"summaries", "action_items"} & set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize("url", database_urls())
def test_search_text_is_backfilled_folded_and_the_new_columns_match_their_models(url, tmp_path):
    """`0007`: utterances already stored become findable without accents or case; the columns are
    the models' (no drift), and the step can be undone."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from database.base import Base

    engine = create_engine(fresh_database(url, tmp_path))
    migrate(engine, "upgrade", "0006")
    with engine.begin() as c:
        c.execute(text("INSERT INTO sessions (id, workspace, title, tag, language, duration, status, meta, created_at) "
                       "VALUES ('r1', 'default', '', '', 'fr', 1.0, 'done', '{}', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO utterances (session_id, cluster_label, start, \"end\", text, words) "
                       "VALUES ('r1', 'SPEAKER_00', 0.0, 1.0, 'Les DIFFÉRENCES sont là', '[]')"))
    migrate(engine, "upgrade", "0007")
    with engine.connect() as c:
        assert c.execute(text("SELECT search_text, language FROM utterances")).all() == [("les differences sont la", "")]
        assert c.execute(text("SELECT error_code FROM jobs")).all() == []
        differences = [d for d in compare_metadata(MigrationContext.configure(c), Base.metadata)
                       if any(w in str(d) for w in ("search_text", "'language'", "error_code", "error_details"))]
    assert differences == []
    migrate(engine, "downgrade", "0006")
    assert "search_text" not in {c["name"] for c in inspect(engine).get_columns("utterances")}
    engine.dispose()


@pytest.mark.parametrize("url", database_urls())
def test_groups_and_participants_match_their_models_and_the_schema_has_no_drift(url, tmp_path):
    """`0008`: groups, their members and a session's group and participants; at the head the whole
    schema is the models' (no table, column, index or key differs), and the step can be undone."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from database.base import Base

    engine = create_engine(fresh_database(url, tmp_path))
    migrate(engine, "upgrade", "0007")
    with engine.begin() as c:
        c.execute(text("INSERT INTO sessions (id, workspace, title, tag, language, duration, status, meta, created_at) "
                       "VALUES ('r1', 'default', 'old', '', 'fr', 1.0, 'done', '{}', CURRENT_TIMESTAMP)"))
    migrate(engine, "upgrade", "head")
    with engine.connect() as c:
        assert c.execute(text("SELECT group_id, participants FROM sessions")).all() in ([(None, "[]")], [(None, [])])
        drift = [d for d in compare_metadata(MigrationContext.configure(c), Base.metadata)
                 if "procrastinate" not in str(d)]  # the job queue's own tables (migration 0004)
        assert drift == []
    with engine.begin() as c:
        if url == "sqlite":
            c.execute(text("PRAGMA foreign_keys=ON"))
        c.execute(text("INSERT INTO speakers (id, workspace, name, notes, created_at, consent) "
                       "VALUES ('s1', 'default', 'Alice', '', CURRENT_TIMESTAMP, 'given')"))
        c.execute(text("INSERT INTO groups (id, workspace, name, created_at) "
                       "VALUES ('g1', 'default', 'Les Ombres', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO group_members (group_id, speaker_id, added_at) VALUES ('g1', 's1', CURRENT_TIMESTAMP)"))
        c.execute(text("UPDATE sessions SET group_id = 'g1'"))
        c.execute(text("DELETE FROM speakers"))
        assert c.execute(text("SELECT count(*) FROM group_members")).scalar() == 0
        c.execute(text("DELETE FROM groups"))
        assert c.execute(text("SELECT group_id FROM sessions")).all() == [(None,)]
    migrate(engine, "downgrade", "0007")
    assert not {"groups", "group_members"} & set(inspect(engine).get_table_names())
    assert "group_id" not in {c["name"] for c in inspect(engine).get_columns("sessions")}
    engine.dispose()
