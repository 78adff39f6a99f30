"""Sessions (transcribed recordings): their clusters, utterances and transcript.

A `Transcript` goes in (`store_transcript`: its clusters are identified, its segments kept with
their words and word scores) and comes back out (`read_transcript`) as the same typed
`Transcript`, with today's speaker names.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Optional, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession

from database import audit
from database.engine import get_owned
from hearback.errors import ConflictError, InputError, NotFoundError
from hearback.quality import missed_in, with_missed
from hearback.result import Identification, Missed, Segment, Transcript, Turn, Word
from hearback.vectors import checked_unit
from sessions.tables import ActionItem, Cluster, Session, Status, Utterance
from speakers.consent import Consent, record_consent, require
from speakers.enrichment import Guard, enrich
from speakers.enrolment import add_voiceprint
from speakers.identification import Embedder, identify
from speakers.matching import Matcher, entry_of
from speakers.roster import add_speaker, get_speaker
from speakers.tables import Speaker

TRANSCRIPT_META = ("model", "timings", "quality", "processing_time", "turns")  # kept on the session as they came
NAMED_BY_HAND = 1.0  # the score of a cluster a person named: certain
RIVAL_MARGIN = 0.05  # a participant's name under the guests' bar needs this lead on anyone else enrolled
DONE = Status.DONE.value  # a session's status once its transcript is stored


def get_session(db: DbSession, workspace: str, session_id: str) -> Session:
    return get_owned(db, Session, session_id, workspace,
                     NotFoundError(f"no session with id {session_id!r}", "session_not_found"))


def add_session(db: DbSession, workspace: str, title: str = "", tag: str = "",
                recorded_at: Optional[datetime] = None) -> Session:
    """A new, pending session in `db`; the caller commits (with its job)."""
    session = Session(workspace=workspace, title=title or "", tag=tag or "", recorded_at=recorded_at, status=Status.PENDING.value)
    db.add(session)
    db.flush()
    return session


def list_sessions(db: DbSession, workspace: str, tag: Optional[str] = None, limit: int = 50,
                  offset: int = 0, since: Optional[datetime] = None,
                  until: Optional[datetime] = None) -> tuple[list[Session], int]:
    """Newest first; `since`/`until` bound the date it was recorded (or transcribed, when unknown)."""
    query = select(Session).where(Session.workspace == workspace)
    if tag:
        query = query.where(Session.tag == tag)
    when = func.coalesce(Session.recorded_at, Session.created_at)
    if since:
        query = query.where(when >= since)
    if until:
        query = query.where(when <= until)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(query.order_by(Session.recorded_at.desc().nulls_last(), Session.created_at.desc())
                      .limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


def list_tags(db: DbSession, workspace: str, limit: int = 200) -> list[str]:
    """The tags in use, by name: the first `limit` (the sessions page's filter; typing any tag works)."""
    return list(db.scalars(select(Session.tag).where(Session.workspace == workspace, Session.tag != "")
                           .distinct().order_by(Session.tag).limit(limit)))


def mark_failed(db: DbSession, session_id: Optional[str]) -> None:
    """The session of a failed job: kept, marked failed (the caller commits); a session whose
    transcript is stored stays done."""
    session = db.get(Session, session_id) if session_id else None
    if session is not None and session.status != DONE:
        session.status = Status.FAILED.value


def is_stored(db: DbSession, session_id: Optional[str]) -> bool:
    """Whether the session's transcript is already stored (a job run again after a crash)."""
    return bool(session_id) and db.scalar(select(Session.status).where(Session.id == session_id)) == DONE


def store_transcript(db: DbSession, matcher: Matcher, workspace: str, session_id: str, transcript: Transcript,
                     running: Embedder, threshold: float, guard: Optional[Guard] = None,
                     participants: Sequence[str] = (), guest: Optional[float] = None) -> Session:
    """Identify the transcript's clusters, then keep clusters and utterances on the session; with a
    `guard`, clusters identified with a large margin enrich their speaker (`speakers.enrichment`).

    With `participants` (speaker ids), the transcript comes named by them (the pipeline anchored
    on their voiceprints, each named by its id): those clusters are theirs, and the others are
    matched against everyone else enrolled at the `guest` bar.

    Idempotent: the session row is locked first (on PostgreSQL), and a session already stored by
    an earlier run of the same job (a crash between this commit and the job's state change, or a
    replica that lost its lease but went on) is left as it is."""
    session = get_session(db, workspace, session_id)
    db.refresh(session, with_for_update=True)
    if session.status == DONE:
        db.rollback()
        return session
    named_by_pipeline = _participants_found(transcript, set(participants))
    found = dict(named_by_pipeline)
    vectors = transcript.speaker_embeddings
    if found and guest is not None and transcript.embedder == running.name:
        found = _unrivalled(db, matcher, workspace, transcript, found, running, guest, set(participants))
    _keep_missed(transcript, found, named_by_pipeline)
    rest = {label: v for label, v in vectors.items() if label not in found}
    if rest and transcript.embedder == running.name:
        bar = guest if participants and guest is not None else threshold
        found |= {i.label: i for i in identify(db, matcher, workspace, rest, transcript.embedder, running, bar,
                                               exclude=set(participants))}
    owner = {label: i.speaker_id for label, i in found.items() if i.name}
    speech = transcript.quality.get("speaker_seconds") or {}
    for label, vector in vectors.items():
        match = found.get(label)
        db.add(Cluster(session_id=session.id, label=label, embedder=transcript.embedder, vector=checked_unit(vector).tobytes(),
                       speaker_id=owner.get(label), score=match.score if match else 0.0,
                       speech_seconds=float(speech.get(label, 0.0))))
    for segment in transcript.segments:
        data = segment.to_dict()
        label = segment.speaker or ""
        db.add(Utterance(session_id=session.id, cluster_label=label, speaker_id=owner.get(label), start=data["start"],
                         end=data["end"], text=data["text"], language=segment.language or "",
                         words=[{k: v for k, v in w.items() if k != "speaker"} for w in data["words"]]))
    session.language = transcript.language
    session.duration = float(transcript.duration)
    session.status = DONE
    session.meta = {k: v for k, v in transcript.to_dict(include_embeddings=False).items() if k in TRANSCRIPT_META}
    changes = enrich(db, matcher, workspace, session.id, transcript.embedder, vectors, speech, found, guard)
    db.commit()
    changes.apply(matcher, workspace)
    return session


def _unrivalled(db: DbSession, matcher: Matcher, workspace: str, transcript: Transcript,
                found: dict[str, Identification], running: Embedder, guest: float,
                participants: set[str]) -> dict[str, Identification]:
    """The participants' clusters, less those named under the guests' bar that someone else
    enrolled comes within RIVAL_MARGIN of: the pipeline was given only the participants' voices
    (a cluster clearly a participant's among the recording's may still be closer to a guest), and
    a wrong name is worse than none. A cluster let go is matched with the others, at the guests' bar."""
    doubtful = {label: i for label, i in found.items() if i.score < guest and label in transcript.speaker_embeddings}
    if not doubtful:
        return found
    rivals = identify(db, matcher, workspace, {label: transcript.speaker_embeddings[label] for label in doubtful},
                      transcript.embedder, running, -1.0, exclude=participants)
    let_go = {r.label for r in rivals if r.name and r.score >= doubtful[r.label].score - RIVAL_MARGIN}
    return {label: i for label, i in found.items() if label not in let_go}


def _keep_missed(transcript: Transcript, found: dict[str, Identification],
                 named_by_pipeline: dict[str, Identification]) -> None:
    """The pipeline's warning about the participants no speaker was recognised as, kept by speaker
    id only (a name stored there would outlive a rename or an erasure: `read_transcript` says it
    with today's names), with those `_unrivalled` let go added."""
    warnings = transcript.quality.get("warnings") or []
    missed, threshold = missed_in(warnings)
    kept = {i.speaker_id for i in found.values() if i.name}
    let_go = [Missed(None, i.speaker_id, label, i.score, rival=True) for label, i in named_by_pipeline.items()
              if i.speaker_id not in kept]
    if missed or let_go:
        transcript.quality["warnings"] = with_missed(
            warnings, [replace(m, name=None) for m in missed] + let_go, threshold)


def _missed_today(db: DbSession, quality: dict, owners: dict[str, str], names: dict[str, str]) -> dict:
    """`quality` with its warning about the participants not recognised said with today's names:
    anyone erased since, or given a cluster of the session by hand, is left out. `owners`: cluster
    label -> speaker id; `names`: speaker id -> name of the session's named speakers."""
    missed, threshold = missed_in(quality.get("warnings") or [])
    if not missed:
        return quality
    ids = [m.speaker_id for m in missed if m.speaker_id and m.speaker_id not in owners.values()]
    today = dict(db.execute(select(Speaker.id, Speaker.name).where(Speaker.id.in_(ids))).all()) if ids else {}
    missed = [replace(m, name=today[m.speaker_id]) for m in missed if m.speaker_id in today]
    shown = {label: names[sid] for label, sid in owners.items() if sid in names}
    return {**quality, "warnings": with_missed(quality["warnings"], missed, threshold, shown)}


def _participants_found(transcript: Transcript, participants: set[str]) -> dict[str, Identification]:
    """The clusters the pipeline named after a participant (named by speaker id), with the
    transcript's segments, words and turns given their cluster labels back (the session keeps
    labels; names are read from the speakers table)."""
    found = {i.label: Identification(i.label, i.name, i.score, i.name) for i in transcript.identifications
             if i.name in participants}
    label_of = {i.name: label for label, i in found.items()}
    if label_of:
        for segment in transcript.segments:
            segment.speaker = label_of.get(segment.speaker, segment.speaker)
            for word in segment.words:
                word.speaker = label_of.get(word.speaker, word.speaker)
        transcript.turns = [Turn(t.start, t.end, label_of.get(t.speaker, t.speaker)) for t in transcript.turns]
    return found


def read_transcript(db: DbSession, workspace: str, session_id: str) -> tuple[Session, Transcript]:
    """The session and its transcript, with today's speaker names in place of matched labels."""
    session = get_session(db, workspace, session_id)
    names = _names(db, session.id)
    segments = []
    for u in db.scalars(select(Utterance).where(Utterance.session_id == session.id).order_by(Utterance.start)):
        speaker = names.get(u.speaker_id, u.cluster_label) if u.speaker_id else u.cluster_label
        words = [Word.from_dict({**w, "speaker": speaker}) for w in u.words]
        segments.append(Segment(u.start, u.end, u.text, words, speaker, u.language or None))
    clusters = db.scalars(select(Cluster).where(Cluster.session_id == session.id).order_by(Cluster.label)).all()
    meta = session.meta or {}
    named = {c.label: names[c.speaker_id] for c in clusters if c.speaker_id in names}
    turns = [Turn(float(t["start"]), float(t["end"]), named.get(t["speaker"], t["speaker"])) for t in meta.get("turns") or []]
    transcript = Transcript(
        segments=segments, language=session.language, duration=session.duration,
        processing_time=float(meta.get("processing_time", 0.0)),
        speakers=sorted({s.speaker for s in segments if s.speaker}),
        model=meta.get("model", {}), timings=meta.get("timings", {}),
        quality=_missed_today(db, meta.get("quality", {}), {c.label: c.speaker_id for c in clusters if c.speaker_id},
                              names),
        identifications=[Identification(c.label, names.get(c.speaker_id) if c.speaker_id else None, c.score,
                                        c.speaker_id) for c in clusters], turns=turns)
    return session, transcript


def transcript_document(db: DbSession, workspace: str, session_id: str) -> dict[str, Any]:
    """The session's transcript in the pipeline's JSON shape, with the session's title and tag."""
    session, transcript = read_transcript(db, workspace, session_id)
    document = transcript.to_dict(include_embeddings=False)
    document.setdefault("identified_speakers", [])
    return {"session_id": session.id, "title": session.title, "tag": session.tag, **document}


def name_cluster(db: DbSession, matcher: Matcher, workspace: str, session_id: str, label: str,
                 speaker_id: Optional[str] = None, new_name: Optional[str] = None,
                 consent: Optional[Consent] = None) -> Speaker:
    """Give a session's cluster to a speaker (existing, or created as `new_name`), in one
    transaction: its embedding becomes a voiceprint (with the person's `consent`, refused without
    it), its utterances and action items are relabelled."""
    consent = require(consent)
    if bool(speaker_id) == bool(new_name):
        raise InputError("give exactly one of speaker_id or name", "speaker_or_name")
    session = get_session(db, workspace, session_id)
    cluster = db.scalar(select(Cluster).where(Cluster.session_id == session.id, Cluster.label == label))
    if cluster is None:
        raise NotFoundError(f"session {session_id} has no speaker cluster {label!r}", "cluster_not_found", label=label)
    if cluster.erased:
        raise ConflictError(f"the voice of cluster {label!r} was erased at its speaker's request: it cannot become a "
                            "voiceprint again; enrol the person from a new sample, with their consent",
                            "cluster_voice_erased", label=label)
    speaker = get_speaker(db, workspace, speaker_id) if speaker_id else add_speaker(db, workspace, new_name or "")
    record = record_consent(db, speaker, consent, workspace)
    voiceprint = add_voiceprint(db, speaker, cluster.array, cluster.embedder, source=f"session {session_id} {label}",
                                seconds=cluster.speech_seconds, origin="named", consent_id=record.id)
    audit.record(db, workspace, consent.recorded_by or "unknown", "enrol", speaker.id, voiceprint_id=voiceprint.id,
                 method=consent.method, session_id=session.id, label=label, embedder=cluster.embedder)
    cluster.speaker_id, cluster.score = speaker.id, NAMED_BY_HAND
    for model in (Utterance, ActionItem):
        db.execute(update(model).where(model.session_id == session.id, model.cluster_label == label)
                   .values(speaker_id=speaker.id))
    db.commit()
    matcher.add(entry_of(voiceprint, workspace))
    return speaker


def _names(db: DbSession, session_id: str) -> dict[str, str]:
    """Today's names of the speakers a session's clusters and utterances belong to."""
    spoken = select(Utterance.speaker_id).where(Utterance.session_id == session_id)
    matched = select(Cluster.speaker_id).where(Cluster.session_id == session_id)
    query = select(Speaker.id, Speaker.name).where(Speaker.id.in_(spoken) | Speaker.id.in_(matched))
    return dict(db.execute(query).all())
