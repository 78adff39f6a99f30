"""`hearback speakers enroll|list` and `hearback serve`: the speaker service from the command
line, on the same database as the HTTP service (SQLite in HEARBACK_DATA_DIR unless DATABASE_URL).
Consent, export, erasure, re-embedding and backups: `app.commands_privacy`."""

from __future__ import annotations

import sys

from app import commands_privacy
from app.local_db import open_database
from service.settings import Settings

MINUTE = 60.0
# On SIGTERM uvicorn stops taking requests, lets open ones finish for this long, then stops the job
# runner, which hands its queued and running jobs back.
GRACEFUL_SECONDS = 10


def register(commands) -> None:
    s = commands.add_parser("speakers", help="enrolled voices: enroll, list, consent, export, erase, reembed")
    sub = s.add_subparsers(dest="speakers_command", required=True, metavar="ACTION")
    enrol = sub.add_parser("enroll", help="enrol a voice sample (>= 3 s of this person alone) under NAME")
    enrol.add_argument("name")
    enrol.add_argument("audio", help="audio file or http(s) URL")
    commands_privacy.consent_options(enrol)
    enrol.set_defaults(run=run_enroll)
    listing = sub.add_parser("list", help="list enrolled speakers (consent, voiceprints needing re-enrolment)")
    listing.set_defaults(run=run_list)
    commands_privacy.register(commands, sub)

    serve = commands.add_parser("serve", help="run the HTTP service (OpenAPI docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=run_serve)


def run_enroll(args) -> int:
    from hearback.fetch import fetched
    from hearback.pipeline import Pipeline
    from speakers import roster
    from speakers.enrolment import enrol
    from speakers.matching import MemoryMatcher

    settings = Settings.from_env()
    consent = commands_privacy.consent_of(args, "cli")
    with open_database(settings).open() as db, fetched(args.audio, settings) as audio:
        existing = roster.find_speaker(db, settings.workspace, args.name)
        done = enrol(db, MemoryMatcher(), Pipeline(settings), settings, audio.path,
                     speaker_id=existing.id if existing else None, new_name=None if existing else args.name,
                     source=f"cli {args.audio}", consent=consent, voices=commands_privacy.voice_store(settings))
        count = len(roster.voiceprints(db, settings.workspace, done.speaker.id))
    for warning in done.warnings:
        print(f"hearback: warning: {warning}", file=sys.stderr)
    print(f"enrolled {done.speaker.name} ({done.speech_seconds:.1f} s of speech, quality {done.quality:.2f}; "
          f"{count} voiceprint(s)); id {done.speaker.id}")
    return 0


def run_list(args) -> int:
    from sessions import people
    from speakers.identification import Embedder

    settings = Settings.from_env()
    running = Embedder.configured(settings).name
    with open_database(settings).open() as db:
        rows = people.list_speakers(db, settings.workspace, embedder=running)
    if not rows:
        print("no speakers enrolled yet: hearback speakers enroll NAME AUDIO --consent")
        return 0
    print(f"{'name':30s} {'voiceprints':>11s} {'talk time':>10s} {'consent':>9s}  id")
    stale = 0
    for row in rows:
        s = row.speaker
        marker = ""
        if row.voiceprints > row.current:
            stale += 1
            marker = f"  ! {row.voiceprints - row.current} of another embedder: needs re-embedding or re-enrolment"
        print(f"{s.name[:30]:30s} {row.voiceprints:11d} {row.talk_seconds / MINUTE:9.1f}m {s.consent:>9s}  {s.id}"
              f"{marker}")
    if stale:
        print(f"! voiceprints of another embedder than {running} are never compared: run `hearback speakers "
              "reembed`; those without kept audio need a new enrolment", file=sys.stderr)
    return 0


def run_serve(args) -> int:
    import uvicorn

    from api.app import create_app

    settings = Settings.from_env()
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", proxy_headers=True,
                forwarded_allow_ips=settings.trusted_proxies, timeout_graceful_shutdown=GRACEFUL_SECONDS)
    return 0
