"""The web pages of groups (a campaign's players, a team): the list with a form to create one,
and a group's page: its members (each linking to what they said), its sessions with each member's
talk time, and the forms to rename it, add or remove a member, or delete it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.i18n import TEXT, language_of
from api.pages import back, clock, logged_in, page, pager, shown_on
from jobs.submission import split_names
from sessions import groups

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_ROWS = 200  # groups, or a group's sessions, shown on one page


@router.get("/groups", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
def groups_page(request: Request, offset: int = Query(default=0, ge=0), db: DbSession = Depends(deps.get_db),
                ws: str = Depends(deps.workspace)):
    rows, total = groups.list_groups(db, ws, limit=PAGE_ROWS, offset=offset)
    return page(request, "groups.html", rows=[(g, groups.members(g)) for g in rows], total=total,
                pager=pager(request, total, PAGE_ROWS, offset))


@router.post("/groups", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/groups")
def create(request: Request, name: str = Form(default=""), members: str = Form(default=""),
           db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    group = groups.create_group(db, ws, name, split_names([members]))
    return back(f"/ui/groups/{group.id}", msg=TEXT[language_of(request)]["group_created"])


@router.get("/groups/{group_id}", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
@shown_on("/ui/groups")
def group_page(request: Request, group_id: str, offset: int = Query(default=0, ge=0),
               db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    group = groups.get_group(db, ws, group_id)
    sessions, total = groups.group_sessions(db, ws, group.id, limit=PAGE_ROWS, offset=offset)
    return page(request, "group.html", group=group, members=groups.members(group), sessions=sessions, total=total,
                clock=clock, pager=pager(request, total, PAGE_ROWS, offset))


@router.post("/groups/{group_id}/rename", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/groups/{group_id}")
def rename(request: Request, group_id: str, name: str = Form(default=""), db: DbSession = Depends(deps.get_db),
           ws: str = Depends(deps.workspace)):
    group = groups.rename_group(db, ws, group_id, name)
    return back(f"/ui/groups/{group.id}", msg=TEXT[language_of(request)]["renamed"])


@router.post("/groups/{group_id}/members", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/groups/{group_id}")
def add(request: Request, group_id: str, members: str = Form(default=""), db: DbSession = Depends(deps.get_db),
        ws: str = Depends(deps.workspace)):
    group = groups.add_members(db, ws, group_id, split_names([members]))
    return back(f"/ui/groups/{group.id}", msg=TEXT[language_of(request)]["members_added"])


@router.post("/groups/{group_id}/members/{speaker_id}/remove",
             dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/groups/{group_id}")
def remove(request: Request, group_id: str, speaker_id: str, db: DbSession = Depends(deps.get_db),
           ws: str = Depends(deps.workspace)):
    group = groups.remove_member(db, ws, group_id, speaker_id)
    return back(f"/ui/groups/{group.id}", msg=TEXT[language_of(request)]["member_removed"])


@router.post("/groups/{group_id}/delete", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/groups")
def delete(request: Request, group_id: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    groups.delete_group(db, ws, group_id)
    return back("/ui/groups", msg=TEXT[language_of(request)]["group_deleted"])
