"""Dependencies of the routers: the API key and login checks, a `db` per request, and the
service's parts (matcher, pipeline, job runner, storage) that `create_app` put on the app."""

from __future__ import annotations

import hashlib
import hmac
from typing import Iterator, Optional

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session as DbSession

from hearback.settings import Settings
from jobs.runner import JobRunner
from jobs.storage import AudioStorage
from speakers.matching import Matcher
from speakers.on_demand import OnDemandPipeline

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the service's HEARBACK_API_KEY")

LOGIN_COOKIE = "hearback_login"
CSRF_HEADER, CSRF_VALUE = "X-Requested-With", "hearback"  # what the web page's own scripts send


def login_token(api_key: str) -> str:
    """The web page's login cookie: derived from the API key, so changing the key logs everyone out."""
    return hmac.new(api_key.encode(), b"hearback web login", hashlib.sha256).hexdigest()


def auth_disabled(settings: Settings) -> bool:
    return settings.insecure_no_auth and not settings.api_key


def has_login(request: Request) -> bool:
    settings = request.app.state.settings
    if auth_disabled(settings):
        return True
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, login_token(settings.api_key))


def require_api_key(request: Request, key: Optional[str] = Depends(api_key_header),
                    authorization: Optional[str] = Header(default=None)) -> None:
    """The key in X-API-Key (or Authorization: Bearer), or the web page's login cookie; a request
    authenticated by cookie that changes something must also carry X-Requested-With (CSRF)."""
    settings = request.app.state.settings
    if auth_disabled(settings):
        return
    given = key or (authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None)
    if given and hmac.compare_digest(given.encode(), settings.api_key.encode()):
        return
    if not given and has_login(request) and (request.method in ("GET", "HEAD")
                                             or request.headers.get(CSRF_HEADER) == CSRF_VALUE):
        return
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
