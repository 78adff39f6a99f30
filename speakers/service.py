"""Persistent speaker identity: the operations the API, the CLI and the job runner share.

Every change goes to the database first and to the FAISS index after the commit, so the index
never holds what the database does not; `rebuild_index` recovers it from the database at any time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from hearback.decode import decode
from hearback.errors import ConflictError, InputError, NotFoundError, Notice
from hearback.identify import assign_names
from hearback.pipeline import Pipeline
from hearback.result import Identification, Transcript
from hearback.settings import Settings
from speakers.db import Database
from speakers.index import VoiceIndex
from speakers.models import Cluster, Session, Speaker, Utterance, Voiceprint

log = logging.getLogger(__name__)
SEARCH_DEPTH = 16  # nearest voiceprints looked at per cluster


@dataclass
class Sample:
    vector: np.ndarray
    speech_seconds: float
    warnings: list[Notice]


@dataclass
class Enrolment:
    voiceprint: Voiceprint
    speech_seconds: float
    warnings: list[Notice] = field(default_factory=list)


class SpeakerService:
    def __init__(self, settings: Settings, database: Optional[Database] = None, pipeline: Optional[Pipeline] = None):
        self.settings = settings
        self.db = database or Database(settings)
        self._pipeline = pipeline
        self._pipeline_lock = threading.Lock()
        self.index = VoiceIndex()
        self.workspace = settings.workspace

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "SpeakerService":
        """Upgrade the schema and build the index from the database."""
        self.db.upgrade()
        self.rebuild_index()
        return self

    @property
    def pipeline(self) -> Pipeline:
        with self._pipeline_lock:
            if self._pipeline is None:
                self._pipeline = Pipeline(self.settings).load()
            return self._pipeline

    @property
    def embedder(self) -> str:
        return self.pipeline.diarizer.embedder_name

    def rebuild_index(self) -> None:
        with self.db.session() as db:
            rows = db.execute(select(Voiceprint.id, Voiceprint.speaker_id, Speaker.workspace, Voiceprint.model,
                                     Voiceprint.vector).join(Speaker)).all()
        self.index.rebuild([(vid, sid, ws, model, np.frombuffer(vec, np.float32)) for vid, sid, ws, model, vec in rows])
        log.info("voiceprint index built: %d voiceprints", len(rows))

    # ------------------------------------------------------------------ speakers

    def create_speaker(self, name: str, notes: str = "") -> Speaker:
        name = _clean_name(name)
        with self.db.session() as db:
            speaker = Speaker(workspace=self.workspace, name=name, notes=notes or "")
            db.add(speaker)
            self._commit(db, ConflictError(f"a speaker named {name!r} already exists", "duplicate_name", name=name))
            return speaker

    def list_speakers(self) -> list[dict[str, Any]]:
        with self.db.session() as db:
            prints = dict(db.execute(select(Voiceprint.speaker_id, func.count()).group_by(Voiceprint.speaker_id)).all())
            talk = dict(db.execute(select(Utterance.speaker_id, func.sum(Utterance.end - Utterance.start))
                                   .where(Utterance.speaker_id.is_not(None)).group_by(Utterance.speaker_id)).all())
            speakers = db.scalars(select(Speaker).where(Speaker.workspace == self.workspace).order_by(Speaker.name)).all()
            return [{"speaker": s, "voiceprints": prints.get(s.id, 0), "talk_seconds": float(talk.get(s.id) or 0.0)}
                    for s in speakers]

    def get_speaker(self, speaker_id: str, db: Optional[DbSession] = None) -> Speaker:
        if db is None:
            with self.db.session() as own:
                return self.get_speaker(speaker_id, own)
        speaker = db.get(Speaker, speaker_id)
        if speaker is None or speaker.workspace != self.workspace:
            raise NotFoundError(f"no speaker with id {speaker_id!r}", "speaker_not_found")
        return speaker

    def voiceprints(self, speaker_id: str) -> list[Voiceprint]:
        with self.db.session() as db:
            self.get_speaker(speaker_id, db)
            return list(db.scalars(select(Voiceprint).where(Voiceprint.speaker_id == speaker_id).order_by(Voiceprint.id)))

    def update_speaker(self, speaker_id: str, name: Optional[str] = None, notes: Optional[str] = None) -> Speaker:
        with self.db.session() as db:
            speaker = self.get_speaker(speaker_id, db)
            if name is not None:
                speaker.name = _clean_name(name)
            if notes is not None:
                speaker.notes = notes
            self._commit(db, ConflictError(f"a speaker named {name!r} already exists", "duplicate_name",
                                           name=speaker.name))
            return speaker

    def delete_speaker(self, speaker_id: str) -> None:
        """Remove the speaker and its voiceprints; its utterances and clusters become unknown."""
        with self.db.session() as db:
            speaker = self.get_speaker(speaker_id, db)
            ids = list(db.scalars(select(Voiceprint.id).where(Voiceprint.speaker_id == speaker_id)))
            db.query(Utterance).filter(Utterance.speaker_id == speaker_id).update({Utterance.speaker_id: None})
            db.query(Cluster).filter(Cluster.speaker_id == speaker_id).update({Cluster.speaker_id: None, Cluster.score: 0.0})
            db.delete(speaker)
            db.commit()
        self.index.remove(ids)

    def merge_speakers(self, source_id: str, target_id: str) -> Speaker:
        """Fold `source` into `target`: voiceprints, utterances and clusters move; source goes."""
        if source_id == target_id:
            raise InputError("cannot merge a speaker into itself", "merge_self")
        with self.db.session() as db:
            source, target = self.get_speaker(source_id, db), self.get_speaker(target_id, db)
            ids = list(db.scalars(select(Voiceprint.id).where(Voiceprint.speaker_id == source.id)))
            db.query(Voiceprint).filter(Voiceprint.speaker_id == source.id).update({Voiceprint.speaker_id: target.id})
            db.query(Utterance).filter(Utterance.speaker_id == source.id).update({Utterance.speaker_id: target.id})
            db.query(Cluster).filter(Cluster.speaker_id == source.id).update({Cluster.speaker_id: target.id})
            db.expire(source)
            db.delete(source)
            db.commit()
        self.index.reassign(ids, target_id)
        return target

    # ------------------------------------------------------------------ enrolment

    def enrol(self, speaker_id: str, audio_path: str | Path, source: str = "") -> Enrolment:
        """Decode, check and embed a voice sample, and store it as a voiceprint of the speaker."""
        self.get_speaker(speaker_id)
        sample = self.check_sample(audio_path)
        voiceprint = self.add_voiceprint(speaker_id, sample.vector, self.embedder, source, sample.speech_seconds)
        return Enrolment(voiceprint, sample.speech_seconds, sample.warnings)

    def check_sample(self, audio_path: str | Path) -> "Sample":
        """Embed a voice sample after checking it holds enough speech of (mostly) one person."""
        audio = decode(audio_path, max_duration=self.settings.max_duration)
        vector, seconds, voices = self.pipeline.embed_voice(audio)
        if seconds < self.settings.min_enrol_seconds:
            raise InputError(f"the sample holds {seconds:.1f} s of speech; enrolment needs at least "
                             f"{self.settings.min_enrol_seconds:g} s of one person speaking",
                             "sample_too_short", seconds=seconds, needed=self.settings.min_enrol_seconds)
        warnings: list[Notice] = []
        if voices > 1:
            warnings.append(Notice(f"{voices} voices were heard in the sample; the voiceprint is the dominant "
                                   "one's. A sample with only this person is better.", "several_voices", {"voices": voices}))
        return Sample(vector, seconds, warnings)

    def add_voiceprint(self, speaker_id: str, vector: np.ndarray, model: str, source: str = "",
                       seconds: float = 0.0) -> Voiceprint:
        vector = _unit(vector)
        with self.db.session() as db:
            self.get_speaker(speaker_id, db)
            voiceprint = Voiceprint(speaker_id=speaker_id, model=model, dimension=len(vector),
                                    vector=vector.tobytes(), source=source[:500], speech_seconds=seconds)
            db.add(voiceprint)
            db.commit()
        self.index.add(voiceprint.id, speaker_id, self.workspace, model, vector)
        return voiceprint

    # ------------------------------------------------------------------ identification

    def identify(self, clusters: dict[str, np.ndarray], model: str,
                 threshold: Optional[float] = None) -> list[Identification]:
        """Names for a recording's clusters, one-to-one, from the FAISS index of `model`."""
        if model != self.embedder:
            raise InputError(f"embeddings of model {model!r} cannot be compared with voiceprints of "
                             f"{self.embedder!r}, the model this service runs")
        labels = sorted(clusters)
        if not labels:
            return []
        dim = self.pipeline.diarizer.embedding_dim
        bad = [label for label in labels if len(clusters[label]) != dim]
        if bad:
            raise InputError(f"cluster {bad[0]} has {len(clusters[bad[0]])} values; {model} gives {dim}")
        hits = self.index.search(model, np.stack([clusters[label] for label in labels]), SEARCH_DEPTH)
        candidates = sorted({h.speaker_id for row in hits for h in row if h.workspace == self.workspace})
        column = {sid: j for j, sid in enumerate(candidates)}
        scores = np.full((len(labels), len(candidates)), -1.0, np.float32)
        for i, row in enumerate(hits):
            for hit in row:
                j = column.get(hit.speaker_id)
                if j is not None:
                    scores[i, j] = max(scores[i, j], hit.score)  # a speaker's closest voiceprint
        threshold = self.settings.identify_threshold if threshold is None else threshold
        result = assign_names(labels, [(sid, sid) for sid in candidates], scores, threshold)
        chosen = [i.speaker_id for i in result if i.name]
        with self.db.session() as db:  # names only for the few speakers chosen
            names = dict(db.execute(select(Speaker.id, Speaker.name).where(Speaker.id.in_(chosen))).all()) if chosen else {}
        return [Identification(i.label, names.get(i.speaker_id) if i.name else None, max(i.score, 0.0),
                               i.speaker_id if i.name else None) for i in result]

    # ------------------------------------------------------------------ sessions

    def create_session(self, title: str = "", tag: str = "", recorded_at: Optional[datetime] = None) -> Session:
        with self.db.session() as db:
            session = Session(workspace=self.workspace, title=title or "", tag=tag or "", recorded_at=recorded_at,
                              status="pending")
            db.add(session)
            db.commit()
            return session

    def store_transcript(self, session_id: str, transcript: Transcript | dict[str, Any]) -> Session:
        """Match the transcript's clusters, then keep its clusters and utterances on the session."""
        data = transcript.to_dict() if isinstance(transcript, Transcript) else transcript
        embeddings = data.get("speaker_embeddings") or {}
        model = embeddings.get("model", "")
        vectors = {label: np.asarray(v, np.float32) for label, v in (embeddings.get("vectors") or {}).items()}
        found = {i.label: i for i in self.identify(vectors, model)} if vectors and model == self.embedder else {}
        speech = (data.get("quality") or {}).get("speaker_seconds") or {}
        with self.db.session() as db:
            session = self._session(session_id, db)
            for label, vector in vectors.items():
                match = found.get(label)
                db.add(Cluster(session_id=session.id, label=label, model=model, vector=_unit(vector).tobytes(),
                               speaker_id=match.speaker_id if match and match.name else None,
                               score=match.score if match else 0.0, speech_seconds=float(speech.get(label, 0.0))))
            owner = {label: (m.speaker_id if m.name else None) for label, m in found.items()}
            for segment in data["transcription"]["segments"]:
                label = segment.get("speaker") or ""
                db.add(Utterance(session_id=session.id, cluster_label=label, speaker_id=owner.get(label),
                                 start=segment["start"], end=segment["end"], text=segment["text"],
                                 words=[{k: w[k] for k in ("word", "start", "end") if k in w} for w in segment["words"]]))
            session.language = data.get("language", "")
            session.duration = float(data.get("duration", 0.0))
            session.status = "done"
            session.meta = {k: data[k] for k in ("model", "timings", "quality", "processing_time") if k in data}
            db.commit()
            return session

    def get_session(self, session_id: str) -> Session:
        with self.db.session() as db:
            return self._session(session_id, db)

    def list_sessions(self, tag: Optional[str] = None, limit: int = 50, offset: int = 0) -> tuple[list[Session], int]:
        with self.db.session() as db:
            query = select(Session).where(Session.workspace == self.workspace)
            if tag:
                query = query.where(Session.tag == tag)
            total = db.scalar(select(func.count()).select_from(query.subquery()))
            rows = db.scalars(query.order_by(Session.recorded_at.desc().nulls_last(), Session.created_at.desc())
                              .limit(limit).offset(offset)).all()
            return list(rows), int(total or 0)

    def transcript(self, session_id: str) -> dict[str, Any]:
        """The session's transcript in the pipeline's JSON shape, with today's speaker names."""
        with self.db.session() as db:
            session = self._session(session_id, db)
            names = self._names(db, session.id)
            segments = []
            for u in db.scalars(select(Utterance).where(Utterance.session_id == session.id).order_by(Utterance.start)):
                speaker = names.get(u.speaker_id) if u.speaker_id else u.cluster_label
                segments.append({"start": u.start, "end": u.end, "text": u.text, "speaker": speaker,
                                 "words": [{**w, "speaker": speaker} for w in u.words]})
            clusters = db.scalars(select(Cluster).where(Cluster.session_id == session.id).order_by(Cluster.label)).all()
            identified = [{"label": c.label, "name": names.get(c.speaker_id) if c.speaker_id else None,
                           "speaker_id": c.speaker_id, "score": round(c.score, 4)} for c in clusters]
            speakers = sorted({s["speaker"] for s in segments if s["speaker"]})
            return {"session_id": session.id, "title": session.title, "tag": session.tag,
                    "transcription": {"text": " ".join(s["text"] for s in segments), "segments": segments},
                    "speakers": speakers, "identified_speakers": identified, "language": session.language,
                    "duration": session.duration, **session.meta}

    def name_cluster(self, session_id: str, label: str, speaker_id: Optional[str] = None,
                     new_name: Optional[str] = None) -> Speaker:
        """Assign a session's cluster to a speaker (existing, or created with `new_name`): its
        embedding becomes a voiceprint and its utterances are relabelled."""
        if bool(speaker_id) == bool(new_name):
            raise InputError("give exactly one of speaker_id or name")
        with self.db.session() as db:
            session = self._session(session_id, db)
            cluster = db.scalar(select(Cluster).where(Cluster.session_id == session.id, Cluster.label == label))
            if cluster is None:
                raise NotFoundError(f"session {session_id} has no speaker cluster {label!r}", "cluster_not_found", label=label)
            vector, model, seconds = cluster.array.copy(), cluster.model, cluster.speech_seconds
        speaker = self.get_speaker(speaker_id) if speaker_id else self.create_speaker(new_name or "")
        self.add_voiceprint(speaker.id, vector, model, source=f"session {session_id} {label}", seconds=seconds)
        with self.db.session() as db:
            db.query(Cluster).filter(Cluster.session_id == session_id, Cluster.label == label).update(
                {Cluster.speaker_id: speaker.id, Cluster.score: 1.0})
            db.query(Utterance).filter(Utterance.session_id == session_id, Utterance.cluster_label == label).update(
                {Utterance.speaker_id: speaker.id})
            db.commit()
        return speaker

    # ------------------------------------------------------------------ history

    def history(self, speaker_id: str, session_id: Optional[str] = None, tag: Optional[str] = None,
                since: Optional[datetime] = None, until: Optional[datetime] = None, text: Optional[str] = None,
                limit: int = 50, offset: int = 0) -> tuple[list[tuple[Utterance, Session]], int]:
        with self.db.session() as db:
            self.get_speaker(speaker_id, db)
            query = (select(Utterance, Session).join(Session, Utterance.session_id == Session.id)
                     .where(Utterance.speaker_id == speaker_id, Session.workspace == self.workspace))
            if session_id:
                query = query.where(Session.id == session_id)
            if tag:
                query = query.where(Session.tag == tag)
            when = func.coalesce(Session.recorded_at, Session.created_at)
            if since:
                query = query.where(when >= since)
            if until:
                query = query.where(when <= until)
            if text:
                query = query.where(func.lower(Utterance.text).contains(text.lower()))
            total = db.scalar(select(func.count()).select_from(query.subquery()))
            rows = db.execute(query.order_by(when, Utterance.start).limit(limit).offset(offset)).all()
            return [(u, s) for u, s in rows], int(total or 0)

    def talk_time(self, speaker_id: str) -> list[dict[str, Any]]:
        with self.db.session() as db:
            self.get_speaker(speaker_id, db)
            rows = db.execute(
                select(Session.id, Session.title, Session.tag, func.sum(Utterance.end - Utterance.start), func.count())
                .join(Utterance, Utterance.session_id == Session.id)
                .where(Utterance.speaker_id == speaker_id).group_by(Session.id, Session.title, Session.tag)).all()
            return [{"session_id": sid, "title": title, "tag": tag, "seconds": round(float(sec or 0.0), 2),
                     "utterances": int(n)} for sid, title, tag, sec, n in rows]

    # ------------------------------------------------------------------ helpers

    def _session(self, session_id: str, db: DbSession) -> Session:
        session = db.get(Session, session_id)
        if session is None or session.workspace != self.workspace:
            raise NotFoundError(f"no session with id {session_id!r}", "session_not_found")
        return session

    def _names(self, db: DbSession, session_id: str) -> dict[str, str]:
        """Today's names of the speakers a session's clusters and utterances belong to."""
        spoken = select(Utterance.speaker_id).where(Utterance.session_id == session_id)
        matched = select(Cluster.speaker_id).where(Cluster.session_id == session_id)
        query = select(Speaker.id, Speaker.name).where(Speaker.id.in_(spoken) | Speaker.id.in_(matched))
        return dict(db.execute(query).all())

    @staticmethod
    def _commit(db: DbSession, conflict: ConflictError) -> None:
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise conflict from None


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InputError("a speaker needs a name", "name_missing")
    if len(name) > 200:
        raise InputError("a speaker's name is at most 200 characters", "name_too_long")
    return name


def _unit(vector) -> np.ndarray:
    v = np.asarray(vector, np.float32)
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm == 0:
        raise InputError("an embedding must be a non-zero vector of finite numbers")
    return v / norm
