"""Tests give the same answer on any date and in any time zone: the tests whose outcome involves
dates (a session's date and the history filters, retention, a login's expiry, a sweep of unsent
webhooks, deadlines in summaries) run again here under libfaketime, years from now and in a
time zone 14 hours from UTC, and must pass there too. Their dates come from the service's clock
(`database.clock`), which the suite sets (conftest's `fixed_clock`), never from the day they run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

DATED = [
    "tests/test_service.py::test_name_a_cluster_after_the_fact_then_history",
    "tests/test_privacy.py::test_retention_purges_old_sessions_and_their_audio_on_a_clock_set_forward",
    "tests/test_storage_webhooks.py::test_a_webhook_whose_sender_died_is_sent_by_the_next_sweep",
    "tests/test_summary.py::test_deadlines_become_dates_from_the_session_day",
    "tests/test_summary.py::test_grounding_takes_owners_and_deadlines_from_the_quoted_line",
]


@pytest.mark.parametrize("moment, zone", [("2031-02-28 23:59:00", "Pacific/Kiritimati"),
                                          ("2027-01-01 00:00:30", "America/Adak")])
def test_the_dated_tests_pass_on_another_day_in_another_time_zone(moment, zone):
    if shutil.which("faketime") is None:
        pytest.fail("faketime is not installed: scripts/setup installs it (Debian package faketime)")
    env = {**os.environ, "TZ": zone}
    run = subprocess.run(["faketime", "-f", f"@{moment}", sys.executable, "-m", "pytest", "-q", "-p",
                          "no:cacheprovider", *DATED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"{len(DATED)} passed" in run.stdout.splitlines()[-1] or "passed" in run.stdout, run.stdout[-2000:]
