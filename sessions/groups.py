"""Groups (a campaign's players, a team) and the participants of a recording.

A group is a name and its members (speakers). A transcription names who it expects, by names or
speaker ids, or by a group (its members); `resolve_participants` turns those words into speakers
before any work is done, and refuses, with every unknown name at once, anything that could not
take part: a name no speaker has, a speaker without consent, or one with no voiceprint of the
running embedder. Their voiceprints then anchor the diarization (`hearback.diarize.anchors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session as DbSession

from database.engine import flush_or_conflict, get_owned
from database.folding import name_key
from hearback.errors import ConflictError, InputError, NotFoundError, check_name, check_text
from hearback.identify import KnownVoice
from sessions.tables import Group, GroupMember, Session, Utterance
from speakers.tables import Speaker, Voiceprint

NAME_LENGTH: int = Group.__table__.c.name.type.length
MAX_PARTICIPANTS = 20  # the diarization's speaker limit


@dataclass
class MemberTalk:
    speaker_id: str
    name: str
    seconds: float


@dataclass
class GroupSession:
    session: Session
    talk: list[MemberTalk]  # each member's talk time in it, members first by name


def clean_group_name(name: Optional[str]) -> str:
    return check_name("a group", name, NAME_LENGTH, "group_name")


def _duplicate(name: str) -> ConflictError:
    return ConflictError(f"a group named {name!r} already exists", "duplicate_group", name=name)


def get_group(db: DbSession, workspace: str, key: str) -> Group:
    """A group by id, or by its name (as names collide: `database.folding.name_key`)."""
    group = db.scalar(select(Group).where(Group.workspace == workspace, Group.name_key == name_key(key or "")))
    return group or get_owned(db, Group, key, workspace,
                              NotFoundError(f"no group with id or name {key!r}", "group_not_found", group=key))


def list_groups(db: DbSession, workspace: str, limit: int = 50, offset: int = 0) -> tuple[list[Group], int]:
    query = select(Group).where(Group.workspace == workspace)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    return list(db.scalars(query.order_by(Group.name).limit(limit).offset(offset))), int(total or 0)


def create_group(db: DbSession, workspace: str, name: str, members: Sequence[str] = ()) -> Group:
    """A new group; `members` are speaker ids or names (all must exist)."""
    group = Group(workspace=workspace, name=clean_group_name(name))
    db.add(group)
    flush_or_conflict(db, _duplicate(group.name))
    _add(db, group, find_speakers(db, workspace, members))
    db.commit()
    return group


def rename_group(db: DbSession, workspace: str, key: str, name: str) -> Group:
    group = get_group(db, workspace, key)
    group.name = clean_group_name(name)
    flush_or_conflict(db, _duplicate(group.name))
    db.commit()
    return group


def add_members(db: DbSession, workspace: str, key: str, members: Sequence[str]) -> Group:
    group = get_group(db, workspace, key)
    _add(db, group, find_speakers(db, workspace, members))
    db.commit()
    return group


def remove_member(db: DbSession, workspace: str, key: str, member: str) -> Group:
    group = get_group(db, workspace, key)
    speaker = find_speakers(db, workspace, [member])[0]
    row = db.get(GroupMember, (group.id, speaker.id))
    if row is None:
        raise NotFoundError(f"{speaker.name!r} is not a member of {group.name!r}", "not_a_member",
                            name=speaker.name, group=group.name)
    group.members.remove(row)
    db.commit()
    return group


def delete_group(db: DbSession, workspace: str, key: str) -> None:
    """The group and its memberships go; its sessions stay, no longer filed under it."""
    db.delete(get_group(db, workspace, key))
    db.commit()


def members(group: Group) -> list[Speaker]:
    return sorted((m.speaker for m in group.members), key=lambda s: s.name.casefold())


def group_sessions(db: DbSession, workspace: str, key: str, limit: int = 50,
                   offset: int = 0) -> tuple[list[GroupSession], int]:
    """The group's sessions, newest first, with each member's talk time in each."""
    group = get_group(db, workspace, key)
    query = select(Session).where(Session.workspace == workspace, Session.group_id == group.id)
    total = int(db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    sessions = list(db.scalars(query.order_by(Session.recorded_at.desc().nulls_last(), Session.created_at.desc())
                               .limit(limit).offset(offset)))
    people = members(group)
    talk = dict(((sid, spk), float(seconds or 0.0)) for sid, spk, seconds in db.execute(
        select(Utterance.session_id, Utterance.speaker_id, func.sum(Utterance.end - Utterance.start))
        .where(Utterance.session_id.in_([s.id for s in sessions]), Utterance.speaker_id.in_([p.id for p in people]))
        .group_by(Utterance.session_id, Utterance.speaker_id)).all())
    return [GroupSession(s, [MemberTalk(p.id, p.name, round(talk.get((s.id, p.id), 0.0), 2)) for p in people])
            for s in sessions], total


def find_speakers(db: DbSession, workspace: str, keys: Iterable[str]) -> list[Speaker]:
    """Speakers by id or name (as names collide: `database.folding.name_key`), in the order given, each once; every key that
    matches nobody is named in one error."""
    wanted = [k.strip() for k in keys if k and k.strip()]
    for key in wanted:
        check_text("a participant", key)
    if not wanted:
        return []
    rows = db.scalars(select(Speaker).where(Speaker.workspace == workspace, or_(
        Speaker.id.in_(wanted), Speaker.name_key.in_([name_key(k) for k in wanted])))).all()
    found, missing = [], []
    for key in wanted:
        speaker = next((s for s in rows if s.id == key), None) or next(
            (s for s in rows if s.name_key == name_key(key)), None)
        if speaker is None:
            missing.append(key)
        elif speaker not in found:
            found.append(speaker)
    if missing:
        raise InputError(f"no enrolled speaker named {', '.join(repr(m) for m in missing)}: enrol them first "
                         "or check the spelling", "unknown_participant", names=missing)
    return found


def resolve_participants(db: DbSession, workspace: str, names: Sequence[str], group: Optional[str],
                         embedder: str) -> tuple[Optional[Group], list[Speaker]]:
    """The group (if named) and the participants: its members and the speakers `names` gives. Each
    must have consented and have a voiceprint of `embedder`; otherwise nothing is done at all."""
    chosen = get_group(db, workspace, group) if group else None
    people = members(chosen) if chosen else []
    people += [s for s in find_speakers(db, workspace, names) if s not in people]
    if len(people) > MAX_PARTICIPANTS:
        raise InputError(f"at most {MAX_PARTICIPANTS} participants, not {len(people)}", "too_many_participants",
                         limit=MAX_PARTICIPANTS)
    unconsented = [s.name for s in people if s.consent != "given"]
    if unconsented:
        raise InputError(f"no consent recorded for {', '.join(map(repr, unconsented))}: their voices cannot be "
                         "matched; record their consent by enrolling them again", "participant_without_consent",
                         names=unconsented)
    enrolled = set(db.scalars(select(Voiceprint.speaker_id).where(
        Voiceprint.speaker_id.in_([s.id for s in people]), Voiceprint.embedder == embedder)))
    missing = [s.name for s in people if s.id not in enrolled]
    if missing:
        raise InputError(f"{', '.join(map(repr, missing))} ha{'s' if len(missing) == 1 else 've'} no voiceprint of "
                         f"{embedder}: enrol {'them' if len(missing) > 1 else 'this person'} first (or re-embed)",
                         "participant_not_enrolled", names=missing)
    return chosen, people


def participant_voiceprints(db: DbSession, speaker_ids: Sequence[str], embedder: str,
                            named_by: str = "id") -> list[KnownVoice]:
    """The participants' voiceprints of `embedder`, for the pipeline (each named by its speaker id,
    or by its name with `named_by="name"`)."""
    if not speaker_ids:
        return []
    rows = db.execute(select(Voiceprint, Speaker.name).join(Speaker).where(
        Voiceprint.speaker_id.in_(list(speaker_ids)), Voiceprint.embedder == embedder)
        .order_by(Voiceprint.id)).all()
    return [KnownVoice(name if named_by == "name" else vp.speaker_id, vp.array, embedder, vp.speaker_id)
            for vp, name in rows]


def _add(db: DbSession, group: Group, speakers: list[Speaker]) -> None:
    present = {m.speaker_id for m in group.members}
    for speaker in speakers:
        if speaker.id not in present:
            group.members.append(GroupMember(group_id=group.id, speaker_id=speaker.id))
    db.flush()
