"""Issue 25, finding 3: keys with scopes, who acted in the audit log, and wrong keys throttled on
every route, X-Forwarded-For believed only from trusted proxies (its right-most untrusted address)."""

from __future__ import annotations

import pytest
from conftest import KEY, fresh_database
from fastapi.testclient import TestClient


def make_settings(tmp_path, **overrides):
    from service.settings import Settings

    return Settings(data_dir=tmp_path / "data", database_url=fresh_database("sqlite", tmp_path), api_key=KEY,
                    min_enrol_seconds=3.0, **overrides)


@pytest.fixture
def service(tmp_path):
    """The service without a loaded pipeline (none of these tests transcribes or enrols audio)."""
    from api.app import create_app

    with TestClient(create_app(make_settings(tmp_path)), client=("203.0.113.9", 50000)) as c:
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
