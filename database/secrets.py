"""Secrets the service makes for itself once and keeps in its database, so that every replica, and
the same service after a restart, uses the same one (e.g. the key that seals page messages when no
HEARBACK_API_KEY is set)."""

from __future__ import annotations

import secrets

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session as DbSession, mapped_column

from database.base import Base


class ServiceSecret(Base):
    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


def service_secret(db: DbSession, name: str) -> str:
    """The secret called `name`, made (random, 256 bits) the first time it is asked for; two
    replicas asking at once get the same one (the second one's insert fails and it reads the first)."""
    found = db.get(ServiceSecret, name)
    if found is not None:
        return found.value
    db.add(ServiceSecret(name=name, value=secrets.token_hex(32)))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
    return db.get(ServiceSecret, name).value
