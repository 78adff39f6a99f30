"""The service's clock: every time the service stores or compares (a session's date, a job's end,
a login's expiry, a retention cut-off) comes from `now()`.

It is the wall clock in UTC, without a time zone attached (the database stores naive UTC). A test
moves it with `starting_at`: the clock then reads a chosen date and keeps ticking from there, so a
test's outcome never depends on the day or the time zone it runs in.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from typing import Iterator

_shift = timedelta(0)  # how far this process's clock is moved from the wall clock


def wall_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def now() -> datetime:
    """The current time in UTC (naive), as the service stores it."""
    return wall_now() + _shift


@contextlib.contextmanager
def starting_at(moment: datetime) -> Iterator[None]:
    """Within the block, the clock reads `moment` (naive UTC) now and ticks on from there."""
    global _shift
    before, _shift = _shift, moment - wall_now()
    try:
        yield
    finally:
        _shift = before
