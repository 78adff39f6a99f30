"""The declarative base every table of the service derives from, and the id its rows take.

The tables themselves live with the code that uses them: `speakers.tables` (voices and identity),
`sessions.tables` (what was said), `jobs.table` (transcription jobs), `database.audit` (the audit
log), `database.secrets` (the service's own secrets) and `api.logins` (web logins). `alembic/env.py` imports them all for the schema."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import DeclarativeBase


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass
