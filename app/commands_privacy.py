"""Voices are biometric data: `hearback speakers consent|export|erase|reembed`, `hearback backup`,
`hearback restore` and `hearback purge`, on the database the service uses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.local_db import open_database
from hearback.errors import InputError
from service.settings import Settings


def consent_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--consent", action="store_true",
                        help="the person consents to their voice being stored and recognised (required)")
    parser.add_argument("--consent-by", default="", metavar="WHO", help="who consented, if not the person themself")
    parser.add_argument("--consent-note", default="", metavar="TEXT", help="e.g. where the signed form is kept")


def consent_of(args, method: str):
    from database.audit import cli_actor
    from speakers.consent import Consent, require

    return require(Consent(args.consent, method, args.consent_by, args.consent_note, cli_actor()))


def voice_store(settings: Settings):
    """Where kept enrolment audio lives: HEARBACK_DATA_DIR/voices, or the bucket with
    HEARBACK_UPLOAD_STORAGE=s3 (as the service keeps it)."""
    from speakers.voice_audio import VoiceAudio

    client = None
    if settings.upload_storage == "s3" and settings.s3_bucket:
        from jobs.storage import AudioStorage

        client = AudioStorage(settings).client
    return VoiceAudio.of(settings, client)


def register(commands, speakers) -> None:
    """`speakers` is the `hearback speakers` sub-command's parsers."""
    consent = speakers.add_parser("consent", help="record the consent of a speaker already enrolled "
                                  "(one enrolled before consents were recorded is not matched until then)")
    consent.add_argument("name")
    consent_options(consent)
    consent.set_defaults(run=run_consent)
    export = speakers.add_parser("export", help="everything held about NAME, in one zip archive")
    export.add_argument("name")
    export.add_argument("--output", "-o", default=None, help="archive file (default: NAME-export.zip)")
    export.set_defaults(run=run_export)
    erase = speakers.add_parser("erase", help="erase NAME's voiceprints and kept audio; never matched again")
    erase.add_argument("name")
    erase.add_argument("--forget-name", action="store_true",
                       help="also replace the name in past transcripts by the neutral label (SPEAKER_01)")
    erase.set_defaults(run=run_erase)
    reembed = speakers.add_parser("reembed", help="recompute voiceprints of another embedder from their kept audio")
    reembed.add_argument("--all", action="store_true", help="recompute every voiceprint, even current ones")
    reembed.set_defaults(run=run_reembed)

    backup = commands.add_parser("backup", help="a consistent snapshot of the database and kept audio in FILE")
    backup.add_argument("file")
    backup.set_defaults(run=run_backup)
    restore = commands.add_parser("restore", help="load a backup into an empty database (then the index is rebuilt)")
    restore.add_argument("file")
    restore.set_defaults(run=run_restore)
    purge = commands.add_parser("purge", help="purge sessions older than HEARBACK_SESSION_RETENTION_DAYS now")
    purge.set_defaults(run=run_purge)


def _speaker(db, settings: Settings, name: str):
    from speakers import roster

    found = roster.find_speaker(db, settings.workspace, name)
    if found is None:
        raise InputError(f"no speaker named {name!r}: see `hearback speakers list`", "speaker_not_found")
    return found


def run_consent(args) -> int:
    from speakers.consent import attest

    settings = Settings.from_env()
    given = consent_of(args, "attested")
    with open_database(settings).open() as db:
        speaker = _speaker(db, settings, args.name)
        row = attest(db, settings.workspace, speaker.id, given)
    print(f"consent of {speaker.name} recorded (#{row.id}, given by {row.given_by}): matched from now on")
    return 0


def run_export(args) -> int:
    from database.audit import cli_actor
    from sessions.export import write_archive

    settings = Settings.from_env()
    target = Path(args.output or f"{args.name}-export.zip")
    with open_database(settings).open() as db:
        speaker = _speaker(db, settings, args.name)
        with target.open("wb") as out:
            counts = write_archive(db, voice_store(settings), settings.workspace, speaker.id, cli_actor(), out)
    print(f"{target}: {counts['voiceprints']} voiceprint(s), {counts['audio_files']} audio file(s), "
          f"{counts['utterances']} utterance(s), {counts['consents']} consent record(s)")
    return 0


def run_erase(args) -> int:
    from database.audit import cli_actor
    from sessions.erasure import erase
    from speakers.matching import MemoryMatcher

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        speaker = _speaker(db, settings, args.name)
        done = erase(db, MemoryMatcher(), voice_store(settings), settings.workspace, speaker.id, cli_actor(),
                     args.forget_name)
    name = "its name replaced by the neutral label in past transcripts" if done.name_forgotten else "its name kept"
    print(f"erased {args.name}: {done.voiceprints} voiceprint(s), {done.audio_files} audio file(s); {name}")
    for error in done.audio_errors:
        print(f"hearback: warning: kept audio not deleted: {error}", file=sys.stderr)
    return 0


def run_reembed(args) -> int:
    from database.audit import cli_actor
    from hearback.pipeline import Pipeline
    from speakers.matching import MemoryMatcher
    from speakers.reembed import reembed

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        done = reembed(db, MemoryMatcher(), Pipeline(settings), voice_store(settings), cli_actor(), args.all)
    print(f"re-embedded {len(done.done)} voiceprint(s) with {done.embedder}; {done.current} already current")
    if done.without_audio:
        print(f"hearback: warning: {len(done.without_audio)} voiceprint(s) have no kept audio (ids "
              f"{', '.join(map(str, done.without_audio))}): enrol those speakers again", file=sys.stderr)
    for vid, error in done.failed.items():
        print(f"hearback: warning: voiceprint {vid}: kept audio unusable ({error})", file=sys.stderr)
    return 0


def run_backup(args) -> int:
    import time

    from app.backup import backup

    settings = Settings.from_env()
    started = time.perf_counter()
    done = backup(open_database(settings), voice_store(settings), Path(args.file))
    print(f"{args.file}: schema {done.revision}, {sum(done.rows.values())} rows "
          f"({done.rows.get('voiceprints', 0)} voiceprints), {done.audio} audio file(s) in "
          f"{time.perf_counter() - started:.1f} s")
    if done.audio_missing:
        print(f"hearback: warning: {len(done.audio_missing)} kept audio file(s) missing", file=sys.stderr)
    return 0


def run_restore(args) -> int:
    import time

    from app.backup import restore
    from database.audit import cli_actor
    from database.engine import Database

    settings = Settings.from_env()
    started = time.perf_counter()
    done = restore(Database(settings), voice_store(settings), Path(args.file), cli_actor(), settings.workspace)
    print(f"restored {args.file} (schema {done.revision}): {sum(done.rows.values())} rows, {done.audio} audio "
          f"file(s); index rebuilt with {done.voiceprints_indexed} voiceprints in {time.perf_counter() - started:.1f} s")
    return 0


def run_purge(args) -> int:
    from jobs.retention import purge_sessions

    settings = Settings.from_env()
    if settings.session_retention_days <= 0:
        raise InputError("HEARBACK_SESSION_RETENTION_DAYS is 0 (keep for ever): set it to a number of days first",
                         "retention_off")
    storage = None
    if settings.s3_bucket:
        from jobs.storage import AudioStorage

        storage = AudioStorage(settings)
    count = purge_sessions(open_database(settings), storage, settings.session_retention_days)
    print(f"purged {count} session(s) older than {settings.session_retention_days:g} days")
    return 0
