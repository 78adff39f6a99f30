"""`hearback keys ...`: named API keys with scopes (`read`, `write`, `biometric`, `admin`), on the
same database as the service. A key's token is printed once, when it is made; only its SHA-256 is
kept. HEARBACK_API_KEY stays an implicit key with every scope."""

from __future__ import annotations

from app.local_db import open_database
from service.settings import Settings


def register(commands) -> None:
    k = commands.add_parser("keys", help="API keys with scopes: create, list, revoke")
    sub = k.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="make a key NAME with some scopes; prints its token once")
    create.add_argument("name", help="who or what holds it, e.g. alice-laptop")
    create.add_argument("--scopes", default="read", help="comma-separated: read, write, biometric (enrol, consent, "
                                                         "voiceprint export, erasure), admin (audit log); default read")
    create.set_defaults(run=run_create)
    sub.add_parser("list", help="list the keys, their scopes and whether they are revoked").set_defaults(run=run_list)
    revoke = sub.add_parser("revoke", help="revoke a key: its requests and web logins end at once")
    revoke.add_argument("key", help="its name or id")
    revoke.set_defaults(run=run_revoke)


def run_create(args) -> int:
    from api import keys

    with open_database(Settings.from_env()).open() as db:
        key, token = keys.create_key(db, args.name, args.scopes)
        print(f"created key {key.name} ({key.scopes}); id {key.id}")
        print(f"token (shown once; send it as X-API-Key): {token}")
    return 0


def run_list(args) -> int:
    from api import keys

    with open_database(Settings.from_env()).open() as db:
        rows = keys.list_keys(db)
        if not rows:
            print("no named keys yet (HEARBACK_API_KEY holds every scope): hearback keys create NAME --scopes read")
        for key in rows:
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            print(f"{key.name}: {key.scopes}; made {key.created_at:%Y-%m-%d %H:%M}; {state}  (id {key.id})")
    return 0


def run_revoke(args) -> int:
    from api import keys

    with open_database(Settings.from_env()).open() as db:
        key = keys.revoke(db, args.key)
        print(f"revoked key {key.name} ({key.id})")
    return 0
