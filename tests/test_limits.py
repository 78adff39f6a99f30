"""Issue 25: limits without gaps and lists without end. Every string is checked against its
column at the edge (a 422 naming the field, never PostgreSQL's 500), a body without a declared
length is cut at HEARBACK_MAX_BYTES as it streams, names that look the same are one name, and
every list comes a page at a time."""

from __future__ import annotations

import pytest
from conftest import KEY, database_urls, fresh_database, service_client

URL = "https://example.org/a.mp3"
PAGE = {"Origin": "http://testserver", "Referer": "http://testserver/ui/sessions"}


def make_settings(tmp_path, url="sqlite", **overrides):
    from service.settings import Settings

    return Settings(data_dir=tmp_path / "data", database_url=fresh_database(url, tmp_path), api_key=KEY,
                    **overrides)


@pytest.fixture(params=database_urls())
def client(request, tmp_path):
    with service_client(make_settings(tmp_path, request.param, max_bytes=100_000), None) as c:
        yield c


def test_a_chunked_upload_is_cut_at_the_limit_with_413(client):
    """No Content-Length: the body is counted as it streams, and refused past HEARBACK_MAX_BYTES."""
    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="audio"; filename="big.wav"\r\n\r\n'
        for _ in range(200):  # 2 MB: past HEARBACK_MAX_BYTES and the form's room (api.guards.MULTIPART_ROOM)
            yield b"\0" * 10_000
        yield b"\r\n--b--\r\n"

    r = client.post("/transcriptions", content=body(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and r.json()["code"] == "file_too_large", r.text
    json_body = client.post("/identify", content=(b"{" + b" " * 3_000_000 for _ in range(1)),
                            headers={"Content-Type": "application/json"})
    assert json_body.status_code == 413 and json_body.json()["code"] == "body_too_large"


def test_every_string_is_checked_against_its_column(client):
    for field, size in (("title", 301), ("tag", 201), ("webhook_url", 2001)):
        value = "https://example.org/" + "a" * size if field == "webhook_url" else "a" * size
        r = client.post("/transcriptions", data={"audio_url": URL, field: value})
        assert r.status_code == 422 and r.json()["code"] == "too_long" and field in r.json()["detail"], (field, r.text)
    assert client.get("/sessions").json()["total"] == 0
    client.post("/ui/login", data={"api_key": KEY}, headers=PAGE)
    page = client.post("/ui/sessions", data={"audio_url": URL, "title": "a" * 301}, headers=PAGE,
                       follow_redirects=False)
    assert page.status_code == 303 and "err=" in page.headers["location"], page.text
    sid = client.post("/speakers", json={"name": "Notes"}).json()["id"]
    for r in (client.post("/speakers", json={"name": "Big", "notes": "n" * 10_001}),
              client.patch(f"/speakers/{sid}", json={"notes": "n" * 1_900_000})):
        assert r.status_code == 422 and r.json()["code"] == "notes_too_long", r.text
    assert client.patch(f"/speakers/{sid}", json={"notes": "n" * 10_000}).status_code == 200


def test_names_that_look_the_same_are_one_name(client):
    assert client.post("/speakers", json={"name": "Gonzalez"}).status_code == 201
    for lookalike in ("Gonz\u00e1lez", "Gonza\u200dlez", "G\u043enzalez", "Gonza\u0301lez", "\u202eGonzalez", "GONZALEZ",
                      "Gonzalez\u200b", "\uff27onzalez"):
        r = client.post("/speakers", json={"name": lookalike})
        assert r.status_code == 409 and r.json()["code"] == "duplicate_name", (ascii(lookalike), r.text)
    invisible = client.post("/speakers", json={"name": "\u200b\u200b"})
    assert invisible.status_code == 422 and invisible.json()["code"] == "name_missing"
    other = client.post("/speakers", json={"name": "Other"}).json()["id"]
    assert client.patch(f"/speakers/{other}", json={"name": "g\u043eNZALEZ"}).json()["code"] == "duplicate_name"
    assert {s["name"] for s in client.get("/speakers").json()} == {"Gonzalez", "Other"}
    assert client.post("/groups", json={"name": "Team"}).status_code == 201
    assert client.post("/groups", json={"name": "T\u0435am\u200d"}).json()["code"] == "duplicate_group"


def test_no_list_is_sent_whole(client):
    """GET /speakers: a page (50 by default, 200 at most) and X-Total-Count; the speakers page: 50
    rows with next/previous links, one text field to merge (suggestions from /ui/speakers/names,
    20 at most), never a <select> of every other voice per row; the sessions page pages on too."""
    from sessions.tables import Session

    ids = [client.post("/speakers", json={"name": f"Voice {i:03}"}).json()["id"] for i in range(60)]
    first = client.get("/speakers")
    assert len(first.json()) == 50 and first.headers["x-total-count"] == "60"
    assert [s["name"] for s in client.get("/speakers", params={"offset": 55}).json()][0] == "Voice 055"
    assert client.get("/speakers", params={"limit": 201}).status_code == 422
    assert client.get(f"/speakers/{ids[0]}/talk-time").headers["x-total-count"] == "0"
    client.post("/ui/login", data={"api_key": KEY}, headers=PAGE)
    html = client.get("/ui/speakers").text
    assert html.count("<tr data-speaker=") == 50 and "<select" not in html and "offset=50" in html
    assert html.count('name="target" list="speaker-names"') == 50
    assert "Voice 055" in client.get("/ui/speakers", params={"offset": 50}).text
    names = client.get("/ui/speakers/names", params={"q": "voice"}).json()
    assert len(names) == 20 and names[0] == {"id": ids[0], "name": "Voice 000"}
    merged = client.post(f"/ui/speakers/{ids[1]}/merge", data={"target": "voice 000"}, headers=PAGE,
                         follow_redirects=False)
    assert merged.status_code == 303 and client.get("/speakers").headers["x-total-count"] == "59"
    unknown = client.post(f"/ui/speakers/{ids[2]}/merge", data={"target": "nobody"}, headers=PAGE,
                          follow_redirects=False)
    assert unknown.status_code == 303 and "err=" in unknown.headers["location"]
    with client.app.state.database.open() as db:
        db.add_all([Session(workspace="default", title=f"S{i}", status="done") for i in range(205)])
        db.commit()
    sessions = client.get("/ui/sessions").text
    assert "offset=200" in sessions and "201 à 205" not in sessions
    assert 'rel="prev"' in client.get("/ui/sessions", params={"offset": 200}).text
