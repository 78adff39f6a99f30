"""Web logins: a random token per login, kept server-side (its SHA-256 in `logins`), that expires
after HEARBACK_LOGIN_HOURS and dies at logout; wrong keys are throttled per client address.

A login is also tied to the API key it was opened with, and carries that key's scopes: changing
HEARBACK_API_KEY, or revoking a named key, ends the logins opened with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import String, delete
from sqlalchemy.orm import Mapped, Session as DbSession, mapped_column

from api.keys import Identity, holder
from database.base import Base
from database.clock import now
from service.settings import Settings


class Login(Base):
    """A web login: the SHA-256 of its random token (the cookie holds the token), until it expires
    or its owner logs out. `key_digest` ties it to the API key it was opened with."""

    __tablename__ = "logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column(index=True)


COOKIE = "hearback_login"
TOKEN_BYTES = 32
THROTTLE_WINDOW = 60.0  # seconds over which wrong logins are counted
THROTTLE_CLIENTS = 10_000  # addresses remembered at most (the oldest are forgotten first)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def open_login(db: DbSession, settings: Settings, key: str) -> str:
    """A new login opened with `key` (HEARBACK_API_KEY or a named key: it carries that key's scopes);
    returns the token for the cookie (only its digest is stored)."""
    db.execute(delete(Login).where(Login.expires_at < now()))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.add(Login(id=digest(token), key_digest=digest(key),
                 expires_at=now() + timedelta(hours=settings.login_hours)))
    db.commit()
    return token


def identify_login(db: DbSession, settings: Settings, token: str) -> Optional[Identity]:
    """The login of this cookie token, as the key it was opened with (its name and scopes), or
    None: unknown, expired, or its key changed or was revoked."""
    login = db.get(Login, digest(token)) if token else None
    if login is None or login.expires_at <= now():
        return None
    found = holder(db, settings, login.key_digest)
    return Identity("login", *found) if found else None


def close_login(db: DbSession, token: str) -> None:
    if token:
        db.execute(delete(Login).where(Login.id == digest(token)))
        db.commit()


class Throttle:
    """At most `attempts` wrong logins per client address within THROTTLE_WINDOW seconds (per
    replica: N replicas behind a load balancer allow N times as many)."""

    def __init__(self, attempts: int):
        self.attempts = attempts
        self.failures: dict[str, deque] = {}
        self.lock = threading.Lock()

    def wait_left(self, client: str) -> float:
        """Seconds this client must still wait before trying again (0: it may try)."""
        with self.lock:
            recent = self._recent(client)
            return 0.0 if len(recent) < self.attempts else THROTTLE_WINDOW - (time.monotonic() - recent[0])

    def failed(self, client: str) -> None:
        with self.lock:
            self._recent(client).append(time.monotonic())
            if len(self.failures) > THROTTLE_CLIENTS:
                self.failures.pop(next(iter(self.failures)))

    def _recent(self, client: str) -> deque:
        recent = self.failures.setdefault(client, deque())
        while recent and time.monotonic() - recent[0] > THROTTLE_WINDOW:
            recent.popleft()
        return recent


def token_of(cookies: dict) -> Optional[str]:
    return cookies.get(COOKIE) or None


def client_address(peer: str, forwarded_for: str, trusted_proxies: str) -> str:
    """The address a request came from, for the throttle. X-Forwarded-For is believed only when the
    peer is one of HEARBACK_TRUSTED_PROXIES (addresses or CIDR ranges; `*`: any), and then only its
    right-most address that is not itself a trusted proxy counts: what a client writes on the left
    of the header (rotated at will) never names it; the address its proxy appended does."""
    trusted = [part.strip() for part in trusted_proxies.split(",") if part.strip()]
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if "*" in trusted:
        return hops[-1] if hops else peer
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: list[str]) -> bool:
    if "*" in trusted or address in trusted:
        return True
    try:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(item, strict=False) for item in trusted if "/" in item)
    except ValueError:
        return False
