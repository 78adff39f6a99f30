"""Every replica's index in step with the database, within a second of any change.

Each enrolment, merge, deletion or naming writes a `voiceprint_changes` row per voiceprint in the
same transaction as the change. A matcher remembers the last change it applied; `catch_up` reads
the newer ones and re-reads those voiceprints from the database (present: added or moved to their
owner; gone: removed), so applying a change twice does no harm and the database stays the truth.
Every identification (a job's or `POST /identify`) calls it first, so a change made on one replica
is seen by the next identification on any other.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from database.clock import now
from speakers.matching import Matcher, entry_of, load
from speakers.tables import Speaker, Voiceprint, VoiceprintChange

log = logging.getLogger(__name__)
KEEP_CHANGES = timedelta(hours=1)  # a replica further behind than this rebuilds its index instead
# Change ids are handed out before their transaction commits, so a change with a smaller id can
# become visible after a larger one: the changes of the last seconds are re-read on every catch-up
# (re-applying one is harmless). Enrolments commit well within this.
OVERLAP = timedelta(seconds=10)


def record(db: DbSession, voiceprint_ids: Iterable[int]) -> None:
    """Note changed voiceprints in `db` (the caller commits them with the change itself)."""
    db.add_all(VoiceprintChange(voiceprint_id=vid) for vid in voiceprint_ids)


def latest(db: DbSession) -> int:
    return int(db.scalar(select(func.max(VoiceprintChange.id))) or 0)


def reload(db: DbSession, matcher: Matcher) -> int:
    """Fill the matcher from the database and mark it current; returns the voiceprint count."""
    seen = latest(db)  # read first: a change committed during the load is applied again, harmlessly
    count = load(db, matcher)
    matcher.seen, matcher.synced_at = seen, time.monotonic()
    return count


def catch_up(db: DbSession, matcher: Matcher) -> int:
    """Apply the changes this matcher has not seen; returns how many voiceprints were re-read."""
    if time.monotonic() - matcher.synced_at > KEEP_CHANGES.total_seconds() / 2:
        reload(db, matcher)  # asleep for long: changes it never saw may be pruned already
        return matcher.count()
    changes = db.execute(select(VoiceprintChange.id, VoiceprintChange.voiceprint_id).where(
        (VoiceprintChange.id > matcher.seen) | (VoiceprintChange.changed_at > now() - OVERLAP))).all()
    matcher.synced_at = time.monotonic()
    if not changes:
        return 0
    ids = sorted({vid for _, vid in changes})
    rows = db.execute(select(Voiceprint, Speaker.workspace).join(Speaker).where(Voiceprint.id.in_(ids))).all()
    matcher.remove(ids)
    for voiceprint, workspace in rows:
        matcher.add(entry_of(voiceprint, workspace))
    matcher.seen = max(matcher.seen, max(cid for cid, _ in changes))
    return len(ids)


def prune(db: DbSession) -> int:
    """Forget changes older than KEEP_CHANGES (every replica has long applied them)."""
    done = db.execute(delete(VoiceprintChange).where(VoiceprintChange.changed_at < now() - KEEP_CHANGES))
    db.commit()
    return done.rowcount or 0
