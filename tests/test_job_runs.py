"""Two runs of one job at once (issue 25): a replica paused longer than its lease resumes while
another runs the job it held. `done` and `failed` are final, the progress in the row never goes
back, and the run that lost the job writes nothing more: its next progress report raises."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from conftest import KEY, database_urls, fresh_database

WAIT = 30.0  # seconds: the most a step of a scenario may take


class Scripted:
    """A transcriber whose every call plays the next script: `script(context)`."""

    def __init__(self, *scripts):
        self.scripts = list(scripts)

    def transcribe(self, source, options, context, participants=()):
        return self.scripts.pop(0)(context)


@pytest.fixture(params=database_urls())
def runner(request, tmp_path):
    from database.engine import Database
    from jobs.runner import JobRunner
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database(request.param, tmp_path), api_key=KEY)
    database = Database(settings).upgrade()
    models = SimpleNamespace(running=SimpleNamespace(name="test-embedder"), embedder=None)
    runner = JobRunner(settings, database, None, models, Scripted(), None)
    yield runner
    database.engine.dispose()


def new_job(runner) -> str:
    from jobs.table import add_job
    from sessions.tables import Session

    with runner.database.open() as db:
        session = Session(workspace="default")
        db.add(session)
        db.flush()
        job = add_job(db, "default", session.id, {"filename": "a.wav"}, "")
        db.commit()
        return job.id


def in_thread(runner, job_id: str) -> tuple[threading.Thread, list]:
    """`runner.run(job_id)` on a thread; what it raised goes into the returned list."""
    raised: list = []

    def run() -> None:
        try:
            runner.run(job_id)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, raised


def pausing(fraction: float, reported: threading.Event, go: threading.Event, then):
    """A run that reports `fraction`, is paused until `go` (a SIGSTOP longer than its lease), then does `then`."""

    def script(context):
        context.progress("transcribing", fraction)
        reported.set()
        assert go.wait(WAIT)
        then(context)
        raise AssertionError("a run that lost its job went on")

    return script


def fail(context):
    from hearback.errors import InputError

    raise InputError("a late failure")


def row(runner, job_id: str):
    from jobs.table import Job

    with runner.database.open() as db:
        return db.get(Job, job_id)


def test_a_late_failure_after_done_leaves_done(runner):
    job_id = new_job(runner)
    reported, go = threading.Event(), threading.Event()
    runner.transcriber.scripts = [pausing(0.3, reported, go, fail)]
    thread, _ = in_thread(runner, job_id)
    assert reported.wait(WAIT)
    from jobs.table import update_job

    with runner.database.open() as db:  # meanwhile the run that took it over ended it
        update_job(db, job_id, state="done", stage="done", progress=1.0)
    go.set()
    thread.join(WAIT)
    job = row(runner, job_id)
    assert (job.state, job.stage, job.error, job.progress) == ("done", "done", "", 1.0)


def test_progress_never_goes_back_and_a_superseded_run_stops_at_its_next_report(runner):
    from jobs.transcribers import HandedBack

    job_id = new_job(runner)
    first, go_first = threading.Event(), threading.Event()
    second, go_second = threading.Event(), threading.Event()
    runner.transcriber.scripts = [pausing(0.3, first, go_first, lambda c: c.progress("transcribing", 0.5)),
                                  pausing(0.1, second, go_second, fail)]
    paused, raised = in_thread(runner, job_id)
    assert first.wait(WAIT)
    from jobs.runner import PIPELINE_SHARE

    told = round(0.3 * PIPELINE_SHARE, 3)  # the transcriber's 0..1 fills the job's bar up to PIPELINE_SHARE
    assert row(runner, job_id).progress == told
    taken_over, _ = in_thread(runner, job_id)  # its lease ran out: another replica runs it
    assert second.wait(WAIT)
    job = row(runner, job_id)
    assert (job.state, job.progress) == ("running", told)  # not 0.3 -> 0 -> 0.1
    go_first.set()  # SIGCONT: the paused run reports 0.5
    paused.join(WAIT)
    assert len(raised) == 1 and isinstance(raised[0], HandedBack)  # stopped at that report
    job = row(runner, job_id)
    assert (job.state, job.progress, job.error) == ("running", told, "")  # and wrote nothing
    go_second.set()
    taken_over.join(WAIT)
    job = row(runner, job_id)
    assert (job.state, job.error) == ("failed", "a late failure")  # the run that holds the job ends it


def test_a_pruned_worker_registers_again_and_the_queue_goes_on(tmp_path, caplog):
    """Another replica pruned this one's worker row (it seemed stalled: a pause, a loaded machine):
    the next claim registers the worker again instead of stopping the queue on a foreign key."""
    import logging
    import os

    from sqlalchemy import create_engine, text

    from conftest import wait_until
    from database.engine import Database
    from jobs.pg_queue import ProcrastinateQueue
    from service.settings import Settings

    url = os.environ.get("DATABASE_TEST_URL")
    if not url:
        pytest.skip("PostgreSQL NOT TESTED: set DATABASE_TEST_URL=postgresql+psycopg://user@host/db (CI sets it)")
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database(url, tmp_path), api_key=KEY,
                        job_lease_seconds=60.0)  # no heartbeat before the claim
    Database(settings).upgrade().engine.dispose()
    queue, ran = ProcrastinateQueue(settings), []
    queue.start(ran.append, lambda: None, lambda older_than: [])
    engine = create_engine(url)
    try:
        wait_until(lambda: queue.worker.worker_id is not None, 10.0, "the worker registered")
        with engine.begin() as db:
            assert db.execute(text("DELETE FROM procrastinate_workers")).rowcount == 1  # the other replica's prune
        queue.put("job-1")
        wait_until(lambda: ran == ["job-1"], 12.0, "the job ran")
        with engine.connect() as db:
            assert db.execute(text("SELECT id FROM procrastinate_workers")).scalars().all() == [queue.worker.worker_id]
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    finally:
        queue.stop(10)
        engine.dispose()


def test_a_job_walks_its_stages_on_one_bar_and_is_done_only_at_the_end(runner, monkeypatch):
    """What the job's row says while it runs, written by the runner: the pipeline's stages on the
    first 95 % of the bar (its own `done` is not the job's), then naming the voices, storing, done;
    the job API and the web page read this row (issue 24: "transcription" was shown throughout)."""
    from hearback.progress import Stage
    from hearback.result import Transcript
    from jobs import runner as runner_module

    written = []
    real = runner_module.update_run

    def recording(db, job_id, run, commit=True, **values):
        if "stage" in values:
            written.append((str(values["stage"]), values.get("progress")))
        return real(db, job_id, run, commit=commit, **values)

    monkeypatch.setattr(runner_module, "update_run", recording)

    def script(context):
        for stage, fraction in [(Stage.LOADING, 0.0), (Stage.TRANSCRIBING, 0.5), (Stage.DIARIZING, 0.95),
                                (Stage.ASSIGNING, 0.98), (Stage.DONE, 1.0)]:
            context.progress(stage, fraction)
        return Transcript([], "fr", 30.0)

    from speakers.matching import MemoryMatcher

    runner.matcher = MemoryMatcher()
    runner.transcriber.scripts = [script]
    job_id = new_job(runner)
    runner.run(job_id)  # "starting" is written by the claim
    stages = [stage for stage, _ in written]
    assert stages == ["loading", "transcribing", "diarizing", "assigning", "identifying", "storing",
                      "storing", "done"], written
    bar = [p for _, p in written if p is not None]
    assert bar == sorted(bar) and bar[-1] == 1.0 and max(bar[:-1]) < 1.0, written
    assert dict(written)["assigning"] == pytest.approx(0.98 * runner_module.PIPELINE_SHARE, abs=1e-3)
    assert (row(runner, job_id).state, row(runner, job_id).stage) == ("done", "done")
    # the steps a page polling every 250 ms would miss are kept, in order, for it to show in turn
    trail = [(step["percent"], step["stage"]) for step in row(runner, job_id).progress_trail]
    assert trail == [(0, "starting"), (0, "loading"), (47, "transcribing"), (90, "diarizing"), (93, "assigning"),
                     (96, "identifying"), (96, "storing"), (98, "storing"), (100, "done")], trail


def test_a_trail_keeps_its_last_steps_and_starts_again_when_the_job_is_handed_back(runner):
    from jobs.table import TRAIL_STEPS, claim_run, update_run

    job_id = new_job(runner)
    with runner.database.open() as db:
        run = claim_run(db, job_id, state="running", stage="starting", progress_trail=[])
        for step in range(40):
            assert update_run(db, job_id, run, stage="transcribing", progress=step / 100)
        assert update_run(db, job_id, run, stage="transcribing", progress=0.2)  # back: neither the bar nor the trail
        assert update_run(db, job_id, run, stage="diarizing")  # a stage alone is a step, at the bar's percent
    trail = row(runner, job_id).progress_trail
    assert len(trail) == TRAIL_STEPS
    assert trail[-3:] == [{"percent": 38, "stage": "transcribing"}, {"percent": 39, "stage": "transcribing"},
                          {"percent": 39, "stage": "diarizing"}], trail
    with runner.database.open() as db:
        assert update_run(db, job_id, run, state="queued", stage="queued")
    assert row(runner, job_id).progress_trail == []
