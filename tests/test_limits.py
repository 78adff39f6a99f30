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
    assert client.post("/speakers", json={"name": "Gonz\u00e1lez"}).status_code == 201  # an accent is another name
    for lookalike in ("Gonza\u200dlez", "G\u043enzalez", "Gonza\u0301lez", "\u202eGonzalez", "GONZALEZ",
                      "Gonzalez\u200b", "\uff27onzalez"):
        r = client.post("/speakers", json={"name": lookalike})
        assert r.status_code == 409 and r.json()["code"] == "duplicate_name", (ascii(lookalike), r.text)
    invisible = client.post("/speakers", json={"name": "\u200b\u200b"})
    assert invisible.status_code == 422 and invisible.json()["code"] == "name_missing"
    other = client.post("/speakers", json={"name": "Other"}).json()["id"]
    assert client.patch(f"/speakers/{other}", json={"name": "g\u043eNZALEZ"}).json()["code"] == "duplicate_name"
    assert {s["name"] for s in client.get("/speakers").json()} == {"Gonzalez", "Gonz\u00e1lez", "Other"}
    assert client.post("/groups", json={"name": "Team"}).status_code == 201
    assert client.post("/groups", json={"name": "T\u0435am\u200d"}).json()["code"] == "duplicate_group"
