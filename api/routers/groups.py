"""Groups of speakers (a campaign's players, a team): create, list, read, rename, add and remove
members, delete; and the group's sessions with each member's talk time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.routers.sessions import session_out
from api.schemas import (
    GroupCreate,
    GroupList,
    GroupMembers,
    GroupOut,
    GroupRename,
    GroupSessionOut,
    GroupSessions,
    MemberOut,
    MemberTalkOut,
)
from sessions import groups
from sessions.tables import Group

router = APIRouter(prefix="/groups", tags=["groups"])


def group_out(group: Group, request: Request) -> GroupOut:
    return GroupOut(id=group.id, name=group.name, created_at=group.created_at, members=[
        MemberOut(id=s.id, name=s.name, consent=s.consent,
                  history_url=str(request.url_for("speaker_utterances", speaker_id=s.id)))
        for s in groups.members(group)])


@router.post("", dependencies=deps.NEEDS["write"], status_code=201, response_model=GroupOut)
def create_group(body: GroupCreate, request: Request, db: DbSession = Depends(deps.get_db),
                 ws: str = Depends(deps.workspace)):
    return group_out(groups.create_group(db, ws, body.name, body.members), request)


@router.get("", dependencies=deps.NEEDS["read"], response_model=GroupList)
def list_groups(request: Request, limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0),
                db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    rows, total = groups.list_groups(db, ws, limit, offset)
    return GroupList(total=total, items=[group_out(g, request) for g in rows])


@router.get("/{group}", dependencies=deps.NEEDS["read"], response_model=GroupOut)
def get_group(group: str, request: Request, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """`group`: its id or its name."""
    return group_out(groups.get_group(db, ws, group), request)


@router.patch("/{group}", dependencies=deps.NEEDS["write"], response_model=GroupOut)
def rename_group(group: str, body: GroupRename, request: Request, db: DbSession = Depends(deps.get_db),
                 ws: str = Depends(deps.workspace)):
    return group_out(groups.rename_group(db, ws, group, body.name), request)


@router.post("/{group}/members", dependencies=deps.NEEDS["write"], response_model=GroupOut)
def add_members(group: str, body: GroupMembers, request: Request, db: DbSession = Depends(deps.get_db),
                ws: str = Depends(deps.workspace)):
    return group_out(groups.add_members(db, ws, group, body.members), request)


@router.delete("/{group}/members/{member}", dependencies=deps.NEEDS["write"], response_model=GroupOut)
def remove_member(group: str, member: str, request: Request, db: DbSession = Depends(deps.get_db),
                  ws: str = Depends(deps.workspace)):
    return group_out(groups.remove_member(db, ws, group, member), request)


@router.delete("/{group}", dependencies=deps.NEEDS["write"], status_code=204)
def delete_group(group: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """The group and its memberships; its sessions stay (no longer filed under it)."""
    groups.delete_group(db, ws, group)
    return Response(status_code=204)


@router.get("/{group}/sessions", dependencies=deps.NEEDS["read"], response_model=GroupSessions)
def group_sessions(group: str, limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0),
                   db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    rows, total = groups.group_sessions(db, ws, group, limit, offset)
    return GroupSessions(total=total, items=[GroupSessionOut(session=session_out(r.session), talk=[
        MemberTalkOut(speaker_id=t.speaker_id, name=t.name, seconds=t.seconds) for t in r.talk]) for r in rows])
