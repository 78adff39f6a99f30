"""Dependencies of the routers: the API key and login checks (made by `api.guards` before the
body is read), a `db` per request, and the service's parts (matcher, pipeline, job runner, storage) that `create_app` put on the app."""

from __future__ import annotations

from typing import Iterator, Optional

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session as DbSession

from api.keys import SCOPES, Identity
from hearback.errors import HearbackError
from jobs.runner import JobRunner
from jobs.storage import AudioStorage
from service.settings import Settings
from speakers.matching import Matcher
from speakers.on_demand import OnDemandPipeline
from speakers.voice_audio import VoiceAudio

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="HEARBACK_API_KEY (every scope) or a named key (`hearback keys`)")

def has_login(request: Request) -> bool:
    """Whether the request came with a valid login cookie (or the API key): `api.guards` checked it."""
    return bool(getattr(request.state, "auth", ""))


def require_api_key(request: Request, key: Optional[str] = Depends(api_key_header)) -> None:
    """The key in X-API-Key (or Authorization: Bearer), or the web pages' login cookie. `api.guards`
    checks it before the body is read; this dependency documents it in the OpenAPI schema and
    refuses anything the guard did not see."""
    if not has_login(request):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong API key: send it in the X-API-Key header",
                            headers={"WWW-Authenticate": "Bearer"})


def get_db(request: Request) -> Iterator[DbSession]:
    """One `db` per request; each repository operation commits its own unit of work on it."""
    with request.app.state.database.open() as db:
        yield db


def settings(request: Request) -> Settings:
    return request.app.state.settings


def workspace(request: Request) -> str:
    return request.app.state.settings.workspace


def matcher(request: Request) -> Matcher:
    return request.app.state.matcher


def models(request: Request) -> OnDemandPipeline:
    return request.app.state.models


def runner(request: Request) -> JobRunner:
    return request.app.state.runner


def storage(request: Request) -> Optional[AudioStorage]:
    return request.app.state.storage


def voices(request: Request) -> VoiceAudio:
    return request.app.state.voices


def identity(request: Request) -> Optional[Identity]:
    return getattr(request.state, "identity", None)


def actor(request: Request) -> str:
    """Who made the request, for consent records and the audit log: `key:NAME` (a named key, or
    `key:HEARBACK_API_KEY`), `login:key:NAME` (a web login opened with that key)."""
    who = identity(request)
    return who.actor if who else "unknown"


class ScopeMissing(HearbackError):
    """The request's key (or the key its web login was opened with) lacks the route's scope: 403."""


def scope(name: str):
    """A dependency: the route needs scope `name` (`read`, `write`, `biometric`, `admin`)."""
    assert name in SCOPES, name

    def needs_scope(request: Request) -> None:
        who = identity(request)
        if who is None or name not in who.scopes:
            raise ScopeMissing(f"this key lacks the scope {name!r} this request needs: ask for a key with "
                               f"--scopes {name} (hearback keys create)", "scope_missing", scope=name)

    needs_scope.__name__ = f"scope_{name}"
    return needs_scope


# `dependencies=NEEDS["read"]` on a route: the scope it needs
NEEDS = {name: [Depends(scope(name))] for name in SCOPES}
