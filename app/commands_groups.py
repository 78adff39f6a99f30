"""`hearback groups ...`: named sets of enrolled speakers (a campaign's players, a team), on the
same database as the service. A transcription given `--group NAME` expects the group's members."""

from __future__ import annotations

from app.local_db import open_database
from hearback.settings import Settings


def register(commands) -> None:
    g = commands.add_parser("groups", help="groups of speakers (campaigns, teams): create, list, show, rename, "
                                           "add, remove, delete")
    sub = g.add_subparsers(dest="groups_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a group NAME with its members")
    create.add_argument("name")
    create.add_argument("members", nargs="*", help="enrolled speakers' names or ids")
    create.set_defaults(run=run_create)
    sub.add_parser("list", help="list the groups and their members").set_defaults(run=run_list)
    show = sub.add_parser("show", help="a group's members and its sessions with each member's talk time")
    show.add_argument("group", help="its name or id")
    show.set_defaults(run=run_show)
    rename = sub.add_parser("rename", help="rename a group")
    rename.add_argument("group")
    rename.add_argument("new_name")
    rename.set_defaults(run=run_rename)
    add = sub.add_parser("add", help="add members to a group")
    add.add_argument("group")
    add.add_argument("members", nargs="+")
    add.set_defaults(run=run_add)
    remove = sub.add_parser("remove", help="remove a member from a group")
    remove.add_argument("group")
    remove.add_argument("member")
    remove.set_defaults(run=run_remove)
    delete = sub.add_parser("delete", help="delete a group (its sessions stay)")
    delete.add_argument("group")
    delete.set_defaults(run=run_delete)


def _show_members(group) -> str:
    from speakers.groups import members

    people = members(group)
    return ", ".join(s.name for s in people) if people else "(no members yet)"


def run_create(args) -> int:
    from speakers import groups

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        group = groups.create_group(db, settings.workspace, args.name, args.members)
        print(f"created group {group.name}: {_show_members(group)}; id {group.id}")
    return 0


def run_list(args) -> int:
    from speakers import groups

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        rows, total = groups.list_groups(db, settings.workspace, limit=1000)
        if not total:
            print('no groups yet: hearback groups create "NAME" MEMBER...')
        for group in rows:
            print(f"{group.name}: {_show_members(group)}  (id {group.id})")
    return 0


def run_show(args) -> int:
    from speakers import groups

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        group = groups.get_group(db, settings.workspace, args.group)
        rows, total = groups.group_sessions(db, settings.workspace, group.id, limit=1000)
        print(f"{group.name}: {_show_members(group)}")
        print(f"{total} session(s)")
        for row in rows:
            s = row.session
            when = (s.recorded_at or s.created_at).date().isoformat()
            talk = ", ".join(f"{t.name} {t.seconds / 60:.1f} min" for t in row.talk)
            print(f"  {when}  {s.title or s.id}  [{s.status}]  {talk}")
    return 0


def _changed(args, change) -> int:
    settings = Settings.from_env()
    with open_database(settings).open() as db:
        group = change(db, settings.workspace)
        print(f"{group.name}: {_show_members(group)}")
    return 0


def run_rename(args) -> int:
    from speakers import groups

    return _changed(args, lambda db, ws: groups.rename_group(db, ws, args.group, args.new_name))


def run_add(args) -> int:
    from speakers import groups

    return _changed(args, lambda db, ws: groups.add_members(db, ws, args.group, args.members))


def run_remove(args) -> int:
    from speakers import groups

    return _changed(args, lambda db, ws: groups.remove_member(db, ws, args.group, args.member))


def run_delete(args) -> int:
    from speakers import groups

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        groups.delete_group(db, settings.workspace, args.group)
    print(f"deleted group {args.group}")
    return 0
