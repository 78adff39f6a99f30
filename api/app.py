"""The FastAPI application: `create_app(settings)`. Run it with `hearback serve`.

Here the service is put together once: the database, the FAISS matcher, the pipeline (loaded on
first use), S3 storage when configured, the transcriber (local or RunPod, chosen now) and the job
runner. On start it upgrades the schema, fills the matcher from the database and starts the job
runner; every route but `/health` and the login page needs the API key or a login, checked
before the body is read (`api.guards`).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Optional

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ScopeMissing, require_api_key, scope
from api.guards import BodyTooLarge, Guards, too_large_answer
from api.i18n import TEXT, language_of, worded
from api.logins import Throttle
from api.pages import LoginRequired, back, error_page, referring_page, use_seal_key
from api.routers import (
    audit,
    groups,
    identify,
    privacy,
    sessions,
    speakers,
    summaries,
    transcriptions,
    uploads,
    web,
    web_groups,
    web_people,
    web_sessions,
)
from database.engine import Database
from database.secrets import service_secret
from hearback.errors import ConfigError, ConflictError, HearbackError, InputError, NotFoundError
from hearback.pipeline import Pipeline
from jobs.runner import JobRunner
from jobs.storage import AudioStorage
from jobs.transcribers import choose_transcriber
from service.settings import Settings
from speakers import index_sync, matching
from speakers.on_demand import OnDemandPipeline
from speakers.reembed import reembed
from speakers.voice_audio import VoiceAudio

log = logging.getLogger(__name__)
STATUS_OF = {ScopeMissing: 403, NotFoundError: 404, ConflictError: 409, InputError: 422, ConfigError: 503}
NUL_REFUSED = "cannot contain NUL"  # psycopg's ValueError for a NUL byte in a text value


def create_app(settings: Optional[Settings] = None, pipeline: Optional[Pipeline] = None) -> FastAPI:
    """The service; `pipeline`, when given, is used instead of loading one (tests share theirs)."""
    settings = settings or Settings.from_env()
    if not settings.api_key and not settings.insecure_no_auth:
        raise ConfigError("set HEARBACK_API_KEY (or HEARBACK_INSECURE_NO_AUTH=1 for a local test) before serving")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(app.state.database.upgrade)
        if not settings.api_key:  # named keys only: the seal's key is kept in the database, alike for every replica
            with app.state.database.open() as db:
                use_seal_key(service_secret(db, "page_seal"))
        if settings.reembed_on_start:
            await run_in_threadpool(_reembed, app)
        with app.state.database.open() as db:
            count = index_sync.reload(db, app.state.matcher)
            index_sync.prune(db)
        await run_in_threadpool(app.state.runner.start)
        log.info("hearback service ready: %d voiceprints indexed; jobs queued with %s", count,
                 app.state.runner.queue.name)
        yield
        await run_in_threadpool(app.state.runner.stop)

    app = FastAPI(title="Hearback", version="0.1.0", lifespan=lifespan,
                  description="Transcripts with named speakers: enrol voices once, find them in every recording.")
    state = app.state
    state.settings = settings
    use_seal_key(settings.api_key)
    state.database = Database(settings)
    state.matcher = matching.FaissMatcher()
    state.models = OnDemandPipeline(settings, pipeline)
    state.storage = AudioStorage(settings) if settings.s3_bucket else None
    state.voices = VoiceAudio.of(settings, state.storage.client if state.storage else None)
    state.runner = JobRunner(settings, state.database, state.matcher, state.models,
                             choose_transcriber(settings, state.models, state.storage), state.storage)

    state.throttle = Throttle(settings.login_attempts)

    @app.get("/health", tags=["health"])
    def health() -> dict:
        """For load balancers: answers while the service runs, and tells nothing else."""
        return {"status": "ok"}

    @app.get("/status", tags=["health"], dependencies=[Depends(require_api_key), Depends(scope("read"))])
    def service_status(request: Request) -> dict:
        """What this replica holds: voiceprints indexed, the job queue it uses."""
        with request.app.state.database.open() as db:
            index_sync.catch_up(db, request.app.state.matcher)
        runner = request.app.state.runner
        return {"status": "ok", "voiceprints": request.app.state.matcher.count(), "queue": runner.queue.name,
                "running": runner.current}

    protected = [Depends(require_api_key)]
    for router in (speakers.router, privacy.router, audit.router, identify.router, transcriptions.router,
                   sessions.router, summaries.router, uploads.router, groups.router):
        app.include_router(router, dependencies=protected)

    app.include_router(web.router)
    app.include_router(web_sessions.router)
    app.include_router(web_groups.router)
    app.include_router(web_people.router)  # after web's /ui/speakers/names
    static = Path(__file__).resolve().parent / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", include_in_schema=False)
    @app.get("/ui", include_in_schema=False)
    @app.get("/ui/", include_in_schema=False)
    def home():
        return RedirectResponse("/ui/speakers")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return FileResponse(static / "favicon.svg", media_type="image/svg+xml")

    _error_handlers(app)
    app.add_middleware(Guards)
    return app


def _reembed(app: FastAPI) -> None:
    """HEARBACK_REEMBED_ON_START: voiceprints of another embedder recomputed from their kept audio."""
    with app.state.database.open() as db:
        done = reembed(db, app.state.matcher, app.state.models.get(), app.state.voices, "service start")
    log.info("re-embedded %d voiceprints with %s; %d without kept audio need re-enrolment; %d failed",
             len(done.done), done.embedder, len(done.without_audio), len(done.failed))


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(_: Request, __: Exception):
        return RedirectResponse("/ui/login", status_code=303)

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, exc: BodyTooLarge):
        return too_large_answer(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """An unknown page of /ui is a page in the reader's language; elsewhere, JSON as before."""
        if _is_page(request):
            t = TEXT[language_of(request)]
            return error_page(request, t["not_found"] if exc.status_code == 404 else t["page_failed"],
                              "" if exc.status_code == 404 else str(exc.detail), status_code=exc.status_code)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(HearbackError)
    async def hearback_error(request: Request, exc: HearbackError):
        code = next((c for kind, c in STATUS_OF.items() if isinstance(exc, kind)), 400)
        if _is_page(request):
            return error_page(request, *worded(exc, language_of(request)), status_code=code)
        body = {"detail": str(exc), "code": exc.code} if exc.code else {"detail": str(exc)}
        for name in ("field", "scope"):  # which field of the request to correct; which scope is missing
            if isinstance(exc.details.get(name), str):
                body[name] = exc.details[name]
        return JSONResponse(body, status_code=code)

    @app.exception_handler(ValueError)
    @app.exception_handler(DataError)
    async def nul_byte(request: Request, exc: Exception):
        """The last net under the checks of names, titles, tags and ids: PostgreSQL refuses NUL bytes."""
        if NUL_REFUSED not in str(exc):
            raise exc
        if _is_page(request):
            return back(referring_page(request, "/ui/speakers"), err=TEXT[language_of(request)]["bad_form"])
        return JSONResponse({"detail": "a value holds a NUL byte (\\x00): remove it and send it again",
                             "code": "control_character"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        if _is_page(request):  # a form the page did not send as it should: back to it, with a message
            return back(referring_page(request, request.url.path if request.method == "GET" else "/ui/speakers"),
                        err=TEXT[language_of(request)]["bad_form"])
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"] if p not in ("body", "query", "path"))
            problems.append(f"{where}: {error['msg']}" if where else error["msg"])
        return JSONResponse({"detail": "; ".join(problems)}, status_code=422)


def _is_page(request: Request) -> bool:
    """A request of the web pages (answered with pages, never JSON), bar the script's JSON calls."""
    path = request.url.path
    return (path == "/ui" or path.startswith("/ui/")) and not path.endswith("/state")
