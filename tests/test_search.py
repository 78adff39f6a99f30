"""Search without accents or case, the same on SQLite and PostgreSQL: "differences" finds
"différences" and "DIFFÉRENCES", across every voice or one, in a real database of each kind."""

from __future__ import annotations

import pytest
from conftest import database_urls, fresh_database


@pytest.mark.parametrize("url", database_urls())
def test_folded_search_finds_accented_words_in_every_voice(url, tmp_path):
    from database.engine import Database
    from database.folding import fold
    from service.settings import Settings
    from sessions.history import HistoryFilter, history
    from sessions.tables import Session, Utterance
    from speakers.tables import Speaker

    database = Database(Settings(data_dir=tmp_path, database_url=fresh_database(url, tmp_path))).upgrade()
    with database.open() as db:
        alice = Speaker(workspace="default", name="Alice")
        session = Session(workspace="default", title="Réunion", status="done")
        db.add_all([alice, session])
        db.flush()
        db.add_all([
            Utterance(session_id=session.id, cluster_label="SPEAKER_00", speaker_id=alice.id, start=1.0, end=2.0,
                      text="Les différences sont nettes.", words=[]),
            Utterance(session_id=session.id, cluster_label="SPEAKER_01", start=3.0, end=4.0,
                      text="DIFFÉRENCES NOTÉES, cœur à l’ouvrage", words=[]),
            Utterance(session_id=session.id, cluster_label="SPEAKER_01", start=5.0, end=6.0,
                      text="Rien à voir (100 %_)", words=[]),
        ])
        db.commit()
        texts = lambda rows: [u.text for u, _ in rows]  # noqa: E731
        for query in ("differences", "Différences", "DIFFERENCES", "diffÉrences"):
            rows, total = history(db, "default", None, HistoryFilter(text=query))
            assert total == 2 and texts(rows) == ["Les différences sont nettes.", "DIFFÉRENCES NOTÉES, cœur à l’ouvrage"]
        rows, total = history(db, "default", alice.id, HistoryFilter(text="differences"))
        assert texts(rows) == ["Les différences sont nettes."]
        assert texts(history(db, "default", None, HistoryFilter(text="coeur a l'ouvrage"))[0]) == [
            "DIFFÉRENCES NOTÉES, cœur à l’ouvrage"]
        # LIKE's wildcards are plain characters in a search
        assert texts(history(db, "default", None, HistoryFilter(text="%_"))[0]) == ["Rien à voir (100 %_)"]
        assert history(db, "default", None, HistoryFilter(text="_"))[1] == 1
    assert fold("DIFFÉRENCES") == fold("différences") == "differences"


def test_a_name_finds_the_person_on_the_search_page(tmp_path, pipeline):
    """"armelle" and "ARMÉLLE" find Armelle (her lines one link away); words still find lines."""
    from conftest import KEY, service_client

    from database.engine import Database
    from service.settings import Settings
    from sessions.tables import Session, Utterance
    from speakers.tables import Speaker

    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database("sqlite", tmp_path), api_key=KEY)
    with Database(settings).upgrade().open() as db:
        armelle, bruno = Speaker(workspace="default", name="Armelle"), Speaker(workspace="default", name="Bruno")
        session = Session(workspace="default", title="Réunion", status="done")
        db.add_all([armelle, bruno, session])
        db.flush()
        db.add(Utterance(session_id=session.id, cluster_label="SPEAKER_00", speaker_id=armelle.id, start=1.0, end=2.0,
                         text="On répète jeudi.", words=[]))
        db.commit()
        armelle_id = armelle.id
    with service_client(settings, pipeline) as client:
        r = client.post("/ui/login", data={"api_key": KEY}, headers={"Origin": "http://testserver"},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        for query in ("armelle", "ARMÉLLE", "arm"):
            html = client.get("/ui/search", params={"q": query, "lang": "fr"}).text
            people = html[html.index('id="people"'):html.index("</ul>", html.index('id="people"'))]
            assert f'/ui/speakers/{armelle_id}" class="person">Armelle</a>' in people and "Bruno" not in people, query
            assert f'/ui/search?speaker_id={armelle_id}"' in people, query  # and her lines, one link away
        html = client.get("/ui/search", params={"speaker_id": armelle_id, "lang": "fr"}).text
        assert "On répète jeudi." in html
        html = client.get("/ui/search", params={"q": "repete", "lang": "fr"}).text
        assert 'id="people"' not in html and "On répète jeudi." in html
