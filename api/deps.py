"""Dependencies shared by the routers: the API key check and the application's services."""

from __future__ import annotations

import hashlib
import hmac
from typing import Optional

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from speakers.jobs import JobRunner
from speakers.service import SpeakerService

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the service's HEARBACK_API_KEY")


SESSION_COOKIE = "hearback_session"


def session_token(api_key: str) -> str:
    """The web page's login cookie: derived from the API key, so changing the key logs everyone out."""
    return hmac.new(api_key.encode(), b"hearback web session", hashlib.sha256).hexdigest()


def has_session(request: Request) -> bool:
    settings = request.app.state.settings
    if settings.insecure_no_auth and not settings.api_key:
        return True
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, session_token(settings.api_key))


def require_api_key(request: Request, key: Optional[str] = Depends(api_key_header),
                    authorization: Optional[str] = Header(default=None)) -> None:
    """The key in X-API-Key (or Authorization: Bearer), or the web page's login cookie; a request
    authenticated by cookie that changes something must also carry X-Requested-With (CSRF)."""
    settings = request.app.state.settings
    if settings.insecure_no_auth and not settings.api_key:
        return
    given = key or (authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None)
    if given and hmac.compare_digest(given.encode(), settings.api_key.encode()):
        return
    if not given and has_session(request) and (request.method in ("GET", "HEAD")
                                               or request.headers.get("X-Requested-With") == "hearback"):
        return
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong API key: send it in the X-API-Key header",
                        headers={"WWW-Authenticate": "Bearer"})


def service(request: Request) -> SpeakerService:
    return request.app.state.service


def runner(request: Request) -> JobRunner:
    return request.app.state.runner
