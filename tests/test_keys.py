"""Issue 25, finding 3: keys with scopes, who acted in the audit log, and wrong keys throttled on
every route, X-Forwarded-For believed only from trusted proxies (its right-most untrusted address)."""

from __future__ import annotations

import pytest
from conftest import KEY, database_urls, fresh_database
from fastapi.testclient import TestClient


def make_settings(tmp_path, url="sqlite", **overrides):
    from service.settings import Settings

    return Settings(data_dir=tmp_path / "data", database_url=fresh_database(url, tmp_path), api_key=KEY,
                    min_enrol_seconds=3.0, **overrides)


@pytest.fixture(params=database_urls())
def service(request, tmp_path):
    """The service without a loaded pipeline (none of these tests transcribes or enrols audio)."""
    from api.app import create_app

    with TestClient(create_app(make_settings(tmp_path, request.param)), client=("203.0.113.9", 50000)) as c:
        yield c


# --------------------------------------------------------------------------------- throttling


def test_wrong_api_keys_are_throttled_on_the_json_api(service):
    answers = [service.get("/speakers", headers={"X-API-Key": f"guess-{i}"}) for i in range(6)]
    assert [r.status_code for r in answers] == [401] * 5 + [429]
    assert answers[-1].json()["code"] == "too_many_keys" and int(answers[-1].headers["retry-after"]) > 0
    assert service.get("/speakers", headers={"X-API-Key": KEY}).status_code == 429  # the right key waits too
    assert service.get("/health").status_code == 200


def test_rotating_x_forwarded_for_from_a_trusted_proxy_still_hits_the_throttle(tmp_path):
    """127.0.0.1 is a trusted proxy: what a client writes on the left of X-Forwarded-For changes on
    every request, the address the proxy appended (the right-most untrusted one) does not."""
    from api.app import create_app

    with TestClient(create_app(make_settings(tmp_path, trusted_proxies="127.0.0.1")), client=("127.0.0.1", 1)) as c:
        answers = [c.get("/speakers", headers={"X-API-Key": "guess", "X-Forwarded-For": f"10.1.{i}.7, 198.51.100.4"})
                   for i in range(6)]
        assert [r.status_code for r in answers] == [401] * 5 + [429]
        answers = [c.post("/ui/login", data={"api_key": "guess"}, headers={"X-Forwarded-For": f"10.2.{i}.1, 198.51.100.4"},
                          follow_redirects=False) for i in range(2)]
        assert [r.status_code for r in answers] == [429, 429]  # the login form counts on the same throttle
        other = c.get("/speakers", headers={"X-API-Key": KEY, "X-Forwarded-For": "10.1.0.7, 198.51.100.5"})
        assert other.status_code == 200  # another client behind the same proxy is not held up


def test_x_forwarded_for_is_believed_only_from_trusted_proxies():
    from api.logins import client_address

    assert client_address("203.0.113.9", "1.2.3.4", "127.0.0.1") == "203.0.113.9"  # not a proxy: ignored
    assert client_address("127.0.0.1", "1.2.3.4, 198.51.100.4", "127.0.0.1") == "198.51.100.4"
    assert client_address("10.0.0.2", "198.51.100.4, 10.0.0.3", "10.0.0.0/8") == "198.51.100.4"
    assert client_address("127.0.0.1", "", "127.0.0.1") == "127.0.0.1"


# ------------------------------------------------------------------------------------- scopes


def new_key(client, name: str, scopes: str) -> str:
    from api import keys

    with client.app.state.database.open() as db:
        return keys.create_key(db, name, scopes)[1]


def test_a_read_only_key_reads_but_cannot_erase_export_write_or_read_the_audit_log(service):
    sid = service.post("/speakers", json={"name": "Alice"}, headers={"X-API-Key": KEY}).json()["id"]
    reader = {"X-API-Key": new_key(service, "dashboard", "read")}
    assert service.get("/speakers", headers=reader).status_code == 200
    assert service.get(f"/speakers/{sid}", headers=reader).status_code == 200
    for method, path, scope in [("delete", f"/speakers/{sid}", "biometric"), ("get", f"/speakers/{sid}/export", "biometric"),
                                ("post", f"/speakers/{sid}/erase", "biometric"), ("post", "/speakers", "write"),
                                ("get", "/audit", "admin")]:
        r = service.request(method.upper(), path, headers=reader, json={"name": "Eve"} if path == "/speakers" else {})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["code"] == "scope_missing" and r.json()["scope"] == scope and scope in r.json()["detail"]
    assert service.get(f"/speakers/{sid}", headers=reader).json()["name"] == "Alice"  # nothing was erased
    assert service.get(f"/speakers/{sid}/export", headers={"X-API-Key": KEY}).status_code == 200  # all scopes


def test_a_web_login_carries_the_scopes_of_its_key_and_ends_with_it(service):
    from api import keys

    sid = service.post("/speakers", json={"name": "Alice"}, headers={"X-API-Key": KEY}).json()["id"]
    token = new_key(service, "kiosk", "read")
    login = service.post("/ui/login", data={"api_key": token}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/ui/speakers"
    cookie = {"Cookie": f"hearback_login={login.cookies['hearback_login']}", "Origin": "http://testserver"}
    service.cookies.clear()
    assert service.get("/ui/speakers", headers=cookie).status_code == 200
    r = service.post(f"/ui/speakers/{sid}/delete", headers=cookie, follow_redirects=False)
    assert r.status_code == 403 and "biometric" in r.text
    with service.app.state.database.open() as db:
        keys.revoke(db, "kiosk")
    assert service.get("/ui/speakers", headers=cookie, follow_redirects=False).headers["location"] == "/ui/login"
    assert service.get("/speakers", headers={"X-API-Key": token}).status_code == 401


def test_keys_command_creates_lists_and_revokes(tmp_path):
    import os
    import subprocess
    import sys

    from api.app import create_app

    settings = make_settings(tmp_path)
    env = {**os.environ, "HEARBACK_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url}

    def hearback(*args):
        return subprocess.run([sys.executable, "-m", "app", "keys", *args], capture_output=True, text=True, env=env,
                              timeout=120)

    made = hearback("create", "alice-laptop", "--scopes", "read,write")
    assert made.returncode == 0, made.stderr
    token = made.stdout.split("token (shown once; send it as X-API-Key): ")[1].strip()
    assert hearback("create", "bob", "--scopes", "read,root").returncode == 2  # unknown scope: one line, status 2
    with TestClient(create_app(settings)) as c:
        assert c.post("/speakers", json={"name": "Ann"}, headers={"X-API-Key": token}).status_code == 201
        assert c.get("/audit", headers={"X-API-Key": token}).json()["scope"] == "admin"
        listed = hearback("list").stdout
        assert "alice-laptop: read,write" in listed and "active" in listed and token not in listed
        assert hearback("revoke", "alice-laptop").returncode == 0
        assert "revoked" in hearback("list").stdout
        assert c.get("/speakers", headers={"X-API-Key": token}).status_code == 401
    with c.app.state.database.open() as db:
        from api.keys import ApiKey

        assert token not in {k.digest for k in db.query(ApiKey)}  # only its hash is kept


# ---------------------------------------------------------------------------------- audit log


def test_the_audit_log_names_the_key_that_erased_and_records_merge_and_rename(service):
    admin = {"X-API-Key": KEY}
    alice = service.post("/speakers", json={"name": "Alice"}, headers=admin).json()["id"]
    bob = service.post("/speakers", json={"name": "Bob"}, headers=admin).json()["id"]
    clerk = {"X-API-Key": new_key(service, "alice-laptop", "read,write,biometric")}
    assert service.patch(f"/speakers/{alice}", json={"name": "Alicia"}, headers=clerk).status_code == 200
    assert service.post(f"/speakers/{alice}/merge", json={"source_id": bob}, headers=clerk).status_code == 200
    assert service.post(f"/speakers/{alice}/erase", json={}, headers=clerk).status_code == 200
    log = service.get("/audit", params={"speaker_id": alice}, headers=admin).json()["items"]
    assert [(e["action"], e["actor"]) for e in log] == [
        ("erase", "key:alice-laptop"), ("merge", "key:alice-laptop"), ("rename", "key:alice-laptop")]
    assert log[1]["detail"]["merged_from"] == bob
    assert "Alicia" not in str(log[1:]) and "Bob" not in str(log[1:])  # merge and rename: ids only
    assert [e["action"] for e in service.get("/audit", params={"action": "rename"}, headers=admin).json()["items"]] \
        == ["rename"]


def test_without_a_service_key_a_page_message_outlives_a_restart(tmp_path):
    """No HEARBACK_API_KEY to derive it from (HEARBACK_INSECURE_NO_AUTH): the key that seals page
    messages is kept in the database, so a redirect's message written before a restart (or by
    another replica) still shows after it, and a forged one still does not."""
    import dataclasses
    import secrets

    from api import pages
    from api.app import create_app

    settings = dataclasses.replace(make_settings(tmp_path), api_key="", insecure_no_auth=True)
    with TestClient(create_app(settings)) as first:
        told = pages.back("/ui/speakers", err="Le service a écrit ceci").headers["location"]
        assert "Le service a écrit ceci" in first.get(told).text
    pages._seal_key["key"] = secrets.token_bytes(32)  # what a new process starts with
    with TestClient(create_app(settings)) as again:  # the service restarted
        assert "Le service a écrit ceci" in again.get(told).text
        assert "Le service a écrit ceci" not in again.get(told.replace("sig=", "sig=0")).text
