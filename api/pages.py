"""What every web page shares: rendering in the reader's language, the redirect that carries a
message back (with what the user typed, so that a refused form comes back filled in), errors
turned into messages on the page they came from, and the speakers' colours.

The web pages never answer with JSON: a domain error, a malformed form or an unknown address is
shown inside a page, in the page's language (`api.app` routes its handlers here for /ui paths).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import re
import secrets
from pathlib import Path
from typing import Callable, Iterable, Optional
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from api.deps import has_login
from api.i18n import LANGUAGE_COOKIE, TEXT, language_of, worded
from hearback.errors import HearbackError
from hearback.fetch import shown_to_user

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
KEPT = "f_"  # query parameters that carry a refused form's values back to it
KEEPABLE = ("name", "new_name", "label", "title", "tag", "audio_url", "language", "q", "speaker_id", "members",
            "participants", "group", "consent", "forget_name")
MESSAGES = ("msg", "err", "warn", "det")  # what a redirect tells the page it lands on (`det`: the details fold)
SEAL = "sig"  # ... sealed: a page shows only the messages this service wrote (never `?err=<any text>`)
_seal_key = {"key": secrets.token_bytes(32)}

# Distinct enough side by side (hues apart, light enough for dark text at 4.5:1 or more).
PALETTE = ("#9ecbff", "#ffc48a", "#a8e6a1", "#f5a3c7", "#d3b8ff", "#ffe27a", "#8fe3de", "#e8b7a0",
           "#c6d98b", "#b8c4d6", "#ffb3b3", "#b5e3ff")


class LoginRequired(Exception):
    """A page asked for without a login: `api.app` sends the reader to the login page."""


def logged_in(request: Request) -> None:
    if not has_login(request):
        raise LoginRequired()


def language_url(request: Request, lang: str) -> str:
    """This page in another language: the query (a search, a filter) stays, messages go."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", SEAL, *MESSAGES)]
    return f"{request.url.path}?{urlencode([*query, ('lang', lang)])}"


def use_seal_key(secret: str) -> None:
    """Seal the pages' messages with a key every replica of one service derives alike (a
    redirect may land on another replica): from HEARBACK_API_KEY, or else from a secret the
    service keeps in its database (`database.secrets`); random until the service has started."""
    if secret:
        _seal_key["key"] = hashlib.sha256(b"hearback page messages\0" + secret.encode()).digest()


def _seal(values: dict[str, str]) -> str:
    text = "\0".join(values.get(k, "") for k in MESSAGES)
    return hmac.new(_seal_key["key"], text.encode(), "sha256").hexdigest()[:32]


def sealed_messages(request: Request) -> dict[str, str]:
    """The redirect's messages, if this service wrote them: a link someone crafted
    (`/ui/login?err=Call+this+number`) shows nothing."""
    values = {k: request.query_params.get(k, "") for k in MESSAGES}
    if not any(values.values()) or not hmac.compare_digest(request.query_params.get(SEAL, ""), _seal(values)):
        return {}
    return values


def page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    lang = language_of(request)
    kept = {k[len(KEPT):]: v for k, v in request.query_params.items() if k.startswith(KEPT)}
    told = sealed_messages(request)
    response = templates.TemplateResponse(request, name, {
        "t": TEXT[lang], "lang": lang, "message": told.get("msg"), "error": told.get("err"),
        "warning": told.get("warn"), "error_detail": told.get("det"),
        "login": has_login(request), "kept": kept, "voice_name": functools.partial(voice_name, TEXT[lang]), "max_bytes": request.app.state.settings.max_bytes, "lang_url": functools.partial(language_url, request),
        **context}, status_code=status_code)
    if request.query_params.get("lang") in TEXT:
        response.set_cookie(LANGUAGE_COOKIE, lang, samesite="lax")
    return response


def error_page(request: Request, message: str, detail: str = "", status_code: int = 400) -> HTMLResponse:
    """An error with no form to go back to (an unknown page, a link to something deleted); `detail`
    (a system's own words) is folded under "details"."""
    return page(request, "error.html", status_code=status_code, problem=message, problem_detail=detail)


def local_path(target: Optional[str], default: str) -> str:
    """`target` if it is a path of this service's pages, else `default` (no open redirect)."""
    if not target or not target.startswith("/ui/") or "//" in target or "\\" in target or "\n" in target:
        return default
    return target


def referring_page(request: Request, default: str) -> str:
    """The page the form was sent from (when it is one of ours), to show the error there."""
    return local_path(urlsplit(request.headers.get("referer", "")).path, default)


def back(path: str, msg: str = "", err: str = "", warn: str = "", kept: Optional[dict] = None,
         det: str = "") -> RedirectResponse:
    """To `path`, with messages for it (sealed) and the values to fill its form with again."""
    told = {key: value for key, value in (("msg", msg), ("err", err), ("warn", warn), ("det", det)) if value}
    query = [*told.items(), (SEAL, _seal(told))] if told else []
    query += [(KEPT + k, v) for k, v in (kept or {}).items() if isinstance(v, str) and v]
    return RedirectResponse(f"{path}?{urlencode(query)}" if query else path, status_code=303)


def typed(values: dict, keep: Iterable[str] = KEEPABLE) -> dict:
    """What the user typed into the form (never files), to fill it in again; a ticked box as "on"."""
    return {k: "on" if v is True else v for k, v in values.items()
            if k in keep and (isinstance(v, str) and v or v is True)}


def shown_on(path: str) -> Callable:
    """A page handler whose domain errors go back to `path` (formatted with the handler's
    arguments, e.g. "/ui/sessions/{session_id}") as a message in the reader's language, with
    the values typed into the form."""

    def decorate(handler: Callable) -> Callable:
        def refused(kwargs: dict, exc: HearbackError) -> RedirectResponse:
            text, detail = worded(exc, language_of(kwargs["request"]))
            return back(path.format(**kwargs), err=text, det=detail, kept=typed(kwargs))

        if inspect.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def run_async(**kwargs):
                try:
                    return await handler(**kwargs)
                except HearbackError as exc:
                    return refused(kwargs, exc)
            return run_async

        @functools.wraps(handler)
        def run(**kwargs):
            try:
                return handler(**kwargs)
            except HearbackError as exc:
                return refused(kwargs, exc)
        return run

    return decorate


def named_as_sent(exc: HearbackError, filename: str) -> HearbackError:
    """The error with our temporary files' names replaced by the name the user's file had."""
    exc.args = tuple(shown_to_user(a, filename) if isinstance(a, str) else a for a in exc.args)
    exc.details = {k: shown_to_user(v, filename) if isinstance(v, str) else v for k, v in exc.details.items()}
    return exc


UNNAMED = re.compile(r"SPEAKER_(\d+)")  # a recording's own label for a voice nobody named


def voice_name(t: dict, label: str) -> str:
    """How a page names a speaker: an unnamed voice of a recording (SPEAKER_00) reads "Voix 1" /
    "Voice 1"; a name stays itself. The API keeps the labels."""
    unnamed = UNNAMED.fullmatch(label or "")
    return t["voice_n"].format(n=int(unnamed.group(1)) + 1) if unnamed else label


def colours(labels: Iterable[str]) -> dict[str, str]:
    """One colour per speaker of a page, all different while there are fewer than the palette's
    twelve (a hash of the name would give look-alikes)."""
    chosen: dict[str, str] = {}
    for label in labels:
        if label not in chosen:
            chosen[label] = PALETTE[len(chosen) % len(PALETTE)]
    return chosen


def colour(label: str) -> str:
    """A stable colour for a name seen outside a page's list (the summary's owners)."""
    return PALETTE[int(hashlib.md5(label.encode()).hexdigest()[:4], 16) % len(PALETTE)]


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class Pager(BaseModel):
    """One page of a list on a web page: where it starts, and the links to the pages around it
    (the same address and filters, another `offset`); a page never lists everything (issue 25)."""

    first: int
    last: int
    total: int
    previous: str = ""
    next: str = ""


def pager(request: Request, total: int, limit: int, offset: int) -> Pager:
    def at(start: int) -> str:
        query = {**request.query_params, "offset": str(start)}
        return f"{request.url.path}?{urlencode(query)}"

    return Pager(first=min(offset + 1, total), last=min(offset + limit, total), total=total,
                 previous=at(max(0, offset - limit)) if offset > 0 else "",
                 next=at(offset + limit) if offset + limit < total else "")
