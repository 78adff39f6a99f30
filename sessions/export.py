"""Access: everything Hearback holds about one person, in one zip archive.

`profile.json` (name, notes, consent state), `consents.json` (who, when, how, note, withdrawn),
`voiceprints.json` (metadata: embedder, origin, source, speech seconds, quality, dates, the kept
audio's file name; not the vectors, which mean nothing outside this service's embedder),
`audio/` (the kept enrolment samples), `utterances.json` (what they said: session title, tag,
date, start, end, text), `action_items.json`, `audit.json` (what was done with their data) and a
README.txt. Each export is written to the audit log.
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from typing import Any, BinaryIO, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from database import audit
from database.audit import AuditEntry
from database.clock import now
from sessions.tables import ActionItem, Session, Utterance
from speakers.consent import records
from speakers.roster import get_speaker
from speakers.tables import Voiceprint
from speakers.voice_audio import VoiceAudio

README = """Hearback: everything this service holds about {name} (speaker {id}), exported {at} UTC.

profile.json       the speaker: name, notes, consent state
consents.json      every consent: who gave it, when, how (upload, recording, url, cli, named, enrichment,
                   attested), the note, and when it was withdrawn
voiceprints.json   each stored voiceprint: the model that made it, its origin (enrolment, named from a
                   session, enriched automatically), speech seconds, quality, and its audio file below
audio/             the enrolment samples as kept (16 kHz WAV)
utterances.json    every line attributed to this person: session title, tag, date, start and end, text
action_items.json  action items of meeting summaries owned by this person
audit.json         what was done with this person's data, and by whom
"""


def write_archive(db: DbSession, voices: Optional[VoiceAudio], workspace: str, speaker_id: str, actor: str,
                  out: BinaryIO) -> dict[str, int]:
    """Write the speaker's archive to `out`, record the export; returns what it holds (counts)."""
    speaker = get_speaker(db, workspace, speaker_id)
    prints = list(db.scalars(select(Voiceprint).where(Voiceprint.speaker_id == speaker.id).order_by(Voiceprint.id)))
    lines = db.execute(select(Utterance, Session).join(Session).where(Utterance.speaker_id == speaker.id)
                       .order_by(Session.recorded_at, Session.created_at, Utterance.start)).all()
    actions = db.scalars(select(ActionItem).where(ActionItem.speaker_id == speaker.id).order_by(ActionItem.id)).all()
    log = db.scalars(select(AuditEntry).where(AuditEntry.speaker_id == speaker.id).order_by(AuditEntry.id)).all()
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        def put(name: str, value: Any) -> None:
            archive.writestr(name, json.dumps(value, ensure_ascii=False, indent=2, default=_iso))

        archive.writestr("README.txt", README.format(name=speaker.name, id=speaker.id, at=_iso(now())))
        put("profile.json", {"id": speaker.id, "name": speaker.name, "notes": speaker.notes, "workspace": workspace,
                             "created_at": speaker.created_at, "consent": speaker.consent})
        put("consents.json", [_row(c, "id", "given_by", "method", "note", "recorded_by", "created_at", "withdrawn_at")
                              for c in records(db, speaker.id)])
        for v in prints:
            if v.audio_key:
                try:
                    archive.writestr(f"audio/{v.id}.wav", voices.read(v.audio_key) if voices else b"")
                except Exception:  # deleted by hand or unreachable: the archive says so
                    missing.append(v.audio_key)
        put("voiceprints.json", [{**_row(v, "id", "embedder", "dimension", "origin", "source", "speech_seconds",
                                         "quality", "created_at", "consent_id"),
                                  "audio": f"audio/{v.id}.wav" if v.audio_key and v.audio_key not in missing else None}
                                 for v in prints])
        put("utterances.json", [{"session_id": s.id, "session_title": s.title, "tag": s.tag,
                                 "recorded_at": s.recorded_at, "start": u.start, "end": u.end, "text": u.text}
                                for u, s in lines])
        put("action_items.json", [_row(a, "session_id", "task", "due", "quote_start") for a in actions])
        put("audit.json", [_row(e, "at", "actor", "action", "detail") for e in log])
    counts = {"voiceprints": len(prints), "audio_files": len([v for v in prints if v.audio_key]) - len(missing),
              "utterances": len(lines), "consents": len(records(db, speaker.id))}
    audit.record(db, workspace, actor, "export", speaker.id, **counts, audio_missing=len(missing))
    db.commit()
    return counts


def _row(obj: Any, *names: str) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    raise TypeError(f"{type(value).__name__} is not JSON")
