"""`hearback speakers ...` and `hearback serve`: the speaker service from the command line, on the
same local database as the HTTP service (SQLite in HEARBACK_DATA_DIR unless DATABASE_URL says)."""

from __future__ import annotations

import sys

from hearback.settings import Settings


def register(commands) -> None:
    s = commands.add_parser("speakers", help="enrolled voices: enroll, list")
    sub = s.add_subparsers(dest="speakers_command", required=True, metavar="ACTION")
    enrol = sub.add_parser("enroll", help="enrol a voice sample (>= 5 s of this person alone) under NAME")
    enrol.add_argument("name")
    enrol.add_argument("audio", help="audio file or http(s) URL")
    enrol.set_defaults(run=run_enroll)
    listing = sub.add_parser("list", help="list enrolled speakers")
    listing.set_defaults(run=run_list)

    serve = commands.add_parser("serve", help="run the HTTP service (OpenAPI docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=run_serve)


def _service():
    from speakers.service import SpeakerService

    return SpeakerService(Settings.from_env()).start()


def run_enroll(args) -> int:
    from hearback.fetch import fetched

    svc = _service()
    with fetched(args.audio, svc.settings) as audio:
        sample = svc.check_sample(audio.path)  # before any change: a bad sample leaves nothing behind
    existing = {row["speaker"].name: row["speaker"] for row in svc.list_speakers()}
    speaker = existing.get(args.name.strip()) or svc.create_speaker(args.name)
    svc.add_voiceprint(speaker.id, sample.vector, svc.embedder, f"cli {args.audio}", sample.speech_seconds)
    for warning in sample.warnings:
        print(f"hearback: warning: {warning}", file=sys.stderr)
    count = len(svc.voiceprints(speaker.id))
    print(f"enrolled {speaker.name} ({sample.speech_seconds:.1f} s of speech; {count} voiceprint(s)); id {speaker.id}")
    return 0


def run_list(args) -> int:
    rows = _service().list_speakers()
    if not rows:
        print("no speakers enrolled yet: hearback speakers enroll NAME AUDIO")
        return 0
    print(f"{'name':30s} {'voiceprints':>11s} {'talk time':>10s}  id")
    for row in rows:
        s = row["speaker"]
        print(f"{s.name[:30]:30s} {row['voiceprints']:11d} {row['talk_seconds'] / 60:9.1f}m  {s.id}")
    return 0


def run_serve(args) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(Settings.from_env()), host=args.host, port=args.port, log_level="info")
    return 0


def local_voiceprints(settings: Settings):
    """The local database's voiceprints, for `hearback transcribe --identify`."""
    from sqlalchemy import select

    from hearback.identify import Voiceprint
    from speakers.models import Speaker, Voiceprint as StoredVoiceprint
    from speakers.service import SpeakerService

    svc = SpeakerService(settings).start()

    with svc.db.session() as db:
        rows = db.execute(select(StoredVoiceprint, Speaker.name).join(Speaker)
                          .where(Speaker.workspace == settings.workspace)).all()
    return [Voiceprint(name, vp.array, vp.model, vp.speaker_id) for vp, name in rows]
