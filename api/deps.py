"""Dependencies shared by the routers: the API key check and the application's services."""

from __future__ import annotations

import hmac
from typing import Optional

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from speakers.jobs import JobRunner
from speakers.service import SpeakerService

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the service's HEARBACK_API_KEY")


def require_api_key(request: Request, key: Optional[str] = Depends(api_key_header),
                    authorization: Optional[str] = Header(default=None)) -> None:
    settings = request.app.state.settings
    if settings.insecure_no_auth and not settings.api_key:
        return
    given = key or (authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None)
    if not given or not hmac.compare_digest(given.encode(), settings.api_key.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong API key: send it in the X-API-Key header",
                            headers={"WWW-Authenticate": "Bearer"})


def service(request: Request) -> SpeakerService:
    return request.app.state.service


def runner(request: Request) -> JobRunner:
    return request.app.state.runner
