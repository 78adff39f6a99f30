"""What every request passes before any route reads its body (an ASGI middleware):

- NUL bytes in the path or the query string: a clear 422 (never a 500 from the database);
- a body larger than the route can take (its Content-Length): 413, before a byte is read; a body
  sent without Content-Length (chunked) is counted as it streams in and cut at the same limit
  with the same 413 (`BodyTooLarge`), before it is spooled any further;
- the throttle: a client that sent HEARBACK_LOGIN_ATTEMPTS wrong keys this minute gets a 429
  with Retry-After for any key it sends (its address: `api.logins.client_address`);
- authentication: the API key (X-API-Key or Authorization: Bearer) or a valid login cookie, or
  401 (the web pages' forms: back to the login page), so an unauthenticated upload is never
  spooled to disk and an unauthenticated JSON body never parsed;
- CSRF: a state-changing request authenticated by the login cookie (and the login form itself)
  must come from one of the service's own pages: its Origin (or Referer) must be this service;
- security headers on every answer (CSP, frame-ancestors and X-Frame-Options, nosniff,
  Referrer-Policy).
The routes read `request.state.auth` ("key", "login", "open" or "") and `request.state.identity`
(the key's name and scopes: `api.deps.scope`) instead of checking again.
"""

from __future__ import annotations

import json
from typing import Optional
from urllib.parse import urlsplit

from fastapi.concurrency import run_in_threadpool
from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.requests import cookie_parser

from api import keys, logins
from api.keys import Identity

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC = ("/health", "/static/", "/docs", "/redoc", "/openapi.json", "/ui/login", "/favicon.ico")
JSON_LIMIT = 2 * 1024 * 1024  # a body that is not a file upload (JSON, form fields): /identify fits easily
MULTIPART_ROOM = 1024 * 1024  # a file upload's form fields and boundaries, above HEARBACK_MAX_BYTES
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
DOCS_CSP = "frame-ancestors 'none'"  # /docs loads Swagger UI from its CDN
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"same-origin")]


class Guards:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        send = _with_security_headers(send, path)
        headers = Headers(scope=scope)
        refusal = _nul_bytes(scope)
        if refusal is None:
            state = scope["app"].state
            client = logins.client_address((scope.get("client") or ("?", 0))[0], headers.get("x-forwarded-for", ""),
                                           state.settings.trusted_proxies)
            scope.setdefault("state", {})["client"] = client
            refusal = _throttled(state.throttle, client, headers)
        if refusal is None:
            identity = await run_in_threadpool(authenticate, state, headers)
            scope["state"]["identity"] = identity
            scope["state"]["auth"] = auth = identity.kind if identity else ""
            if not auth and presented_key(headers):
                state.throttle.failed(client)
            refusal = (_unauthenticated(path, method, auth) or _cross_site(scope, headers, path, method, auth)
                       or _too_large(scope["app"].state.settings, headers))
            if refusal is not None and refusal.status == 413 and path.startswith("/ui/"):
                refusal = _on_the_page(scope, refusal)
        if refusal is not None:
            return await refusal(scope, receive, send)
        if method not in SAFE_METHODS and "content-length" not in headers:
            receive = _counted(receive, *_limit(scope["app"].state.settings, headers))
        return await self.app(scope, receive, send)


def authenticate(state, headers: Headers) -> Optional[Identity]:
    """Who the request acts as (a key, a web login, or "open": no key configured, local tests), or
    None (nobody)."""
    settings = state.settings
    if settings.insecure_no_auth and not settings.api_key:
        return Identity("open", "", frozenset(keys.SCOPES))
    given = presented_key(headers)
    token = "" if given else logins.token_of(cookie_parser(headers.get("cookie", "")))
    if not given and not token:
        return None
    with state.database.open() as db:
        return keys.identify_key(db, settings, given) if given else logins.identify_login(db, settings, token)


def presented_key(headers: Headers) -> str:
    """The key a request sends: X-API-Key, or Authorization: Bearer."""
    authorization = headers.get("authorization", "")
    return headers.get("x-api-key") or (authorization[7:] if authorization.lower().startswith("bearer ") else "")


def _throttled(throttle, client: str, headers: Headers) -> Optional["_Answer"]:
    """A client past HEARBACK_LOGIN_ATTEMPTS wrong keys this minute: 429 for any key it sends, the
    right one included, until the minute is over (the login form counts on the same throttle)."""
    wait = throttle.wait_left(client) if presented_key(headers) else 0.0
    if wait <= 0:
        return None
    return _Answer(429, {"detail": "too many wrong keys from this address: try again in a minute",
                         "code": "too_many_keys"}, extra=[(b"retry-after", str(int(wait) + 1).encode())])


def _nul_bytes(scope) -> Optional["_Answer"]:
    query = scope.get("query_string", b"").lower()
    if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
        return _Answer(422, {"detail": "the address holds a NUL byte (%00): remove it and send the request again",
                             "code": "control_character"})
    return None


def _limit(settings, headers: Headers) -> tuple[int, "_Answer"]:
    """The most bytes this request's body may hold, and the 413 past it."""
    multipart = headers.get("content-type", "").startswith("multipart/form-data")
    limit = settings.max_bytes + MULTIPART_ROOM if multipart else JSON_LIMIT
    what = f"the file is over the limit of {settings.max_bytes} bytes (HEARBACK_MAX_BYTES)" if multipart else \
        f"the request body is over {JSON_LIMIT} bytes"
    return limit, _Answer(413, {"detail": what, "code": "file_too_large" if multipart else "body_too_large"})


def _too_large(settings, headers: Headers) -> Optional["_Answer"]:
    declared = headers.get("content-length", "")
    if not declared.isdigit():
        return None
    limit, refusal = _limit(settings, headers)
    return refusal if int(declared) > limit else None


class BodyTooLarge(HTTPException):
    """A body without Content-Length that went past its limit while streaming in: raised from the
    body's own reading, so FastAPI stops parsing it; answered by `too_large_answer`."""

    def __init__(self, refusal: "_Answer"):
        super().__init__(413, refusal.body["detail"])
        self.refusal = refusal


def _counted(receive, limit: int, refusal: "_Answer"):
    """`receive`, counting the body's bytes: past `limit`, `BodyTooLarge`."""
    seen = 0

    async def receiving():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(refusal)
        return message

    return receiving


def too_large_answer(request: Request, error: BodyTooLarge) -> Response:
    """The 413 of a streamed body: JSON, or for a page's form the way back to it with the message."""
    refusal = _on_the_page(request.scope, error.refusal) if request.url.path.startswith("/ui/") else error.refusal
    if refusal.location:
        return Response(status_code=303, headers={"location": refusal.location, "connection": "close"})
    return JSONResponse(refusal.body, status_code=413, headers={"connection": "close"})


def _unauthenticated(path: str, method: str, auth: str) -> Optional["_Answer"]:
    if auth or path in ("/", "/ui") or path.startswith(PUBLIC):
        return None
    if path.startswith("/ui/"):
        return None if method in SAFE_METHODS or path == "/ui/logout" else _Answer(303, location="/ui/login")
    return _Answer(401, {"detail": "missing or wrong API key: send it in the X-API-Key header"},
                   extra=[(b"www-authenticate", b"Bearer")])


def _on_the_page(scope, refusal: "_Answer") -> "_Answer":
    """A web page's form refused before its body is read: back to the page it came from, the
    message in the page's language (never a JSON page)."""
    from api.i18n import language_of, say
    from api.pages import back, referring_page
    from hearback.errors import InputError

    request = Request(scope)
    limit = scope["app"].state.settings.max_bytes
    problem = say(InputError(refusal.body["detail"], refusal.body["code"], limit=limit), language_of(request))
    location = back(referring_page(request, "/ui/speakers"), err=problem).headers["location"]
    return _Answer(303, location=location)


def _cross_site(scope, headers: Headers, path: str, method: str, auth: str) -> Optional["_Answer"]:
    """A login-cookie request that changes something, or the login form, from another site."""
    if method in SAFE_METHODS or not (auth == "login" or path == "/ui/login"):
        return None
    source = headers.get("origin") or _origin(headers.get("referer", ""))
    if source and source.lower() in own_origins(scope, headers):
        return None
    if not source and path == "/ui/login":
        return None  # a login form sent without Origin or Referer: nothing to steal
    return _Answer(403, {"detail": "this request did not come from this service's own pages (Origin "
                                   f"{source or 'missing'}): reload the page and try again", "code": "cross_site"})


def own_origins(scope, headers: Headers) -> set[str]:
    """The service's origins: the one this request was sent to, and HEARBACK_PUBLIC_URL's."""
    public = scope["app"].state.settings.public_url
    origins = {f"{scope['scheme']}://{headers.get('host', '')}".lower()}
    if public:
        origins.add(_origin(public).lower())
    return origins


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _with_security_headers(send, path: str):
    csp = DOCS_CSP if path.startswith(("/docs", "/redoc")) else CSP

    async def sending(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *HEADERS,
                                               (b"content-security-policy", csp.encode())]}
        await send(message)

    return sending


class _Answer:
    """A refusal sent without reading the request body."""

    def __init__(self, status: int, body: Optional[dict] = None, location: str = "", extra: list = ()):
        self.status, self.body, self.location, self.extra = status, body, location, list(extra)

    async def __call__(self, scope, receive, send) -> None:
        payload = json.dumps(self.body).encode() if self.body else b""
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                   (b"connection", b"close"), *self.extra]
        if self.location:
            headers.append((b"location", self.location.encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
