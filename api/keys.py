"""API keys with scopes: a named key holds some of `read`, `write`, `biometric` (enrol, consent,
voiceprint export, erasure) and `admin` (the audit log; keys are made on the command line). Only
the SHA-256 of a key's random token is stored; the token is shown once, when the key is made.

HEARBACK_API_KEY stays an implicit key with every scope, named `HEARBACK_API_KEY` in the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session as DbSession, mapped_column

from database.base import Base
from database.clock import now
from hearback.errors import ConflictError, InputError, NotFoundError
from service.settings import Settings

SCOPES = ("read", "write", "biometric", "admin")
IMPLICIT = "HEARBACK_API_KEY"  # the name HEARBACK_API_KEY acts under
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
TOKEN_PREFIX = "hbk_"


class ApiKey(Base):
    """A named key: the SHA-256 of its token, its scopes (comma-separated), made and revoked when."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(default=None)


@dataclass(frozen=True)
class Identity:
    """Who a request acts as: `kind` "key", "login" (a web login, opened with key `key`) or "open"
    (no key configured: local tests); the key's name and scopes."""

    kind: str
    key: str
    scopes: frozenset

    @property
    def actor(self) -> str:
        """For the audit log and consent records: `key:NAME`, `login:key:NAME`."""
        if self.kind == "open":
            return "open service (no API key)"
        return f"key:{self.key}" if self.kind == "key" else f"login:key:{self.key}"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_scopes(text: str) -> list[str]:
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(f"scopes are a comma-separated list of {', '.join(SCOPES)} (not {', '.join(unknown) or 'empty'})",
                         "unknown_scope")
    return [s for s in SCOPES if s in scopes]


def create_key(db: DbSession, name: str, scopes: str) -> tuple[ApiKey, str]:
    """A new key and its token (shown once: only its digest is kept)."""
    if not NAME.fullmatch(name) or name == IMPLICIT:
        raise InputError("a key's name is 1 to 100 letters, digits, '.', '_', '@' or '-' (and not HEARBACK_API_KEY)",
                         "bad_key_name")
    if db.scalar(select(ApiKey).where(ApiKey.name == name)) is not None:
        raise ConflictError(f"a key named {name} exists (revoked keys keep their names)", "duplicate_key")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, digest=digest(token), scopes=",".join(parse_scopes(scopes)))
    db.add(key)
    db.commit()
    return key, token


def list_keys(db: DbSession) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.name)))


def revoke(db: DbSession, name_or_id: str) -> ApiKey:
    """Revoke a key (by name or id): its requests and the web logins opened with it end at once."""
    key = db.scalar(select(ApiKey).where((ApiKey.name == name_or_id) | (ApiKey.id == name_or_id)))
    if key is None:
        raise NotFoundError(f"no key named {name_or_id}", "key_not_found")
    if key.revoked_at is None:
        key.revoked_at = now()
        db.commit()
    return key


def holder(db: DbSession, settings: Settings, key_digest: str) -> Optional[tuple[str, frozenset]]:
    """The name and scopes of the key whose token has this digest (HEARBACK_API_KEY's or a named,
    unrevoked key's), or None. Digests are compared in constant time."""
    if settings.api_key and secrets.compare_digest(key_digest, digest(settings.api_key)):
        return IMPLICIT, frozenset(SCOPES)
    key = db.scalar(select(ApiKey).where(ApiKey.digest == key_digest, ApiKey.revoked_at.is_(None)))
    if key is None or not secrets.compare_digest(key.digest, key_digest):
        return None
    return key.name, frozenset(key.scopes.split(","))


def identify_key(db: DbSession, settings: Settings, token: str) -> Optional[Identity]:
    found = holder(db, settings, digest(token)) if token else None
    return Identity("key", *found) if found else None
