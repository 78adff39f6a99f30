"""`hearback groups ...`: named sets of enrolled speakers (a campaign's players, a team), on the
same database as the service. A transcription given `--group NAME` expects the group's members."""

from __future__ import annotations

from app.local_db import open_database
from service.settings import Settings


def register(commands) -> None:
    g = commands.add_parser("groups", help="groups of speakers (campaigns, teams): create, list, show, rename, "
                                           "add, remove, delete")
    sub = g.add_subparsers(dest="groups_command", required=True, metavar="ACTION")
    # action: (help, its arguments as (name, nargs, help), what runs it)
    actions = {
        "create": ("create a group NAME with its members",
                   [("name", None, None), ("members", "*", "enrolled speakers' names or ids")], run_create),
        "list": ("list the groups and their members", [], run_list),
        "show": ("a group's members and its sessions with each member's talk time",
                 [("group", None, "its name or id")], run_show),
        "rename": ("rename a group", [("group", None, None), ("new_name", None, None)], run_rename),
        "add": ("add members to a group", [("group", None, None), ("members", "+", None)], run_add),
        "remove": ("remove a member from a group", [("group", None, None), ("member", None, None)], run_remove),
        "delete": ("delete a group (its sessions stay)", [("group", None, None)], run_delete),
    }
    for action, (summary, arguments, run) in actions.items():
        parser = sub.add_parser(action, help=summary)
        for name, nargs, text in arguments:
            parser.add_argument(name, nargs=nargs, help=text)
        parser.set_defaults(run=run)


def _show_members(group) -> str:
    from sessions.groups import members

    people = members(group)
    return ", ".join(s.name for s in people) if people else "(no members yet)"


def run_create(args) -> int:
    from sessions import groups

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        group = groups.create_group(db, settings.workspace, args.name, args.members)
        print(f"created group {group.name}: {_show_members(group)}; id {group.id}")
    return 0


def run_list(args) -> int:
    from sessions import groups

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        rows, total = groups.list_groups(db, settings.workspace, limit=1000)
        if not total:
            print('no groups yet: hearback groups create "NAME" MEMBER...')
        for group in rows:
            print(f"{group.name}: {_show_members(group)}  (id {group.id})")
    return 0


def run_show(args) -> int:
    from sessions import groups

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
    from sessions import groups

    return _changed(args, lambda db, ws: groups.rename_group(db, ws, args.group, args.new_name))


def run_add(args) -> int:
    from sessions import groups

    return _changed(args, lambda db, ws: groups.add_members(db, ws, args.group, args.members))


def run_remove(args) -> int:
    from sessions import groups

    return _changed(args, lambda db, ws: groups.remove_member(db, ws, args.group, args.member))


def run_delete(args) -> int:
    from sessions import groups

    settings = Settings.from_env()
    with open_database(settings).open() as db:
        groups.delete_group(db, settings.workspace, args.group)
    print(f"deleted group {args.group}")
    return 0
