"""Two daemons on one PostgreSQL and one broker under the same traffic (issue 11).

All work done, none twice, and both daemons do some of it, while SIGKILLs hit
either at random (each restarted). Then the takeover: the first daemon is
SIGKILLed while it holds leases and stays dead; the second takes over every
job the first held when its lease ran out, and the backlog drains through it
once. The seed is printed; ``DIGIDIALOG_CRASH_SEED`` replays it. The longer
run is ``python -m digidialog.testing.crash --daemons 2 --kills 60``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from digidialog.testing.crash import CrashSettings, crash_run
from digidialog.testing.crash.takeover import TakeoverSettings, takeover_run
from digidialog.testing.crash.worklog import log_events, work_log

KILLS = 10
UP = (0.5, 4.0)
"""Seconds each incarnation serves before its kill (counted from when it serves)."""


def seed() -> int:
    """The given seed, or a fresh one (printed)."""
    given = os.environ.get("DIGIDIALOG_CRASH_SEED")
    chosen = int(given) if given else random.SystemRandom().randrange(10**6)
    print(f"crash seed {chosen} (DIGIDIALOG_CRASH_SEED={chosen} replays it)")
    return chosen


@pytest.mark.services
def test_two_daemons_under_kills_share_the_work_and_do_none_twice(tmp_path: Path) -> None:
    """Ten SIGKILLs spread over two daemons: nothing lost or duplicated, nothing parked,
    every daemon stops cleanly, and each daemon's log shows work it did."""
    folder = tmp_path / "crash"
    settings = CrashSettings(seed=seed(), kills=KILLS, daemons=2, up=UP, down=(0.0, 0.5),
                             drain=120.0, folder=folder)
    report = crash_run(settings)
    print(report.render())
    assert report.ok, report.render()
    assert report.kills == KILLS and report.daemons == 2
    assert report.kills_serving >= KILLS // 2, "most kills must hit a daemon at work"
    assert report.lost == 0 and report.duplicated == 0
    assert report.effects >= 50, "too little traffic to prove anything"
    work = {name: work_log(log_events(
        (folder / name / "daemon.log").read_text(encoding="utf-8").splitlines()))
        for name in ("daemon-1", "daemon-2")}
    for name, done in work.items():
        print(f"{name}: {len(done.outbox)} outbox jobs and {len(done.inbox)} portal messages "
              f"logged done; {len(done.owners)} incarnation(s) served")
    assert all(done.outbox and done.inbox for done in work.values()), \
        "a daemon did no work: the two did not share it"


@pytest.mark.services
def test_a_killed_daemons_leases_are_taken_over_by_the_other(tmp_path: Path) -> None:
    """daemon-1 is SIGKILLed holding live leases (the EPJs slow, so its jobs are in flight)
    and never restarted; Profil pushes to daemon-2. Every job daemon-1 held is done by
    daemon-2 once its lease ran out; every effect arrives once; nothing parked."""
    settings = TakeoverSettings(seed=seed(), folder=tmp_path / "takeover")
    takeover = takeover_run(settings)
    print(takeover.render())
    report = takeover.report
    assert takeover.ok, takeover.render()
    assert report.lost == 0 and report.duplicated == 0
    assert report.kills == 1 and report.exits == {"daemon-2": 0}
    assert len(takeover.held) >= settings.leases
    assert takeover.finished == takeover.held
    assert takeover.unlogged == []
    assert takeover.takeover_seconds is not None
    assert takeover.work["daemon-2"].done > 0


def test_a_daemons_work_is_read_from_its_log() -> None:
    """The lease owner of each start, the outbox jobs ended, the inbox jobs (portal
    messages) handled; other lines and events are passed over."""
    lines = [
        '{"event": "daemon started", "owner": "host:1:aa"}',
        "Traceback (most recent call last):",
        '{"event": "sent to portal", "job": 7, "msg_id": "m-1"}',
        '{"event": "delivered to EPJ", "job": 8}',
        '{"event": "cancellation registered in EPJ", "job": 9}',
        '{"event": "job retried later", "job": 10}',
        '{"event": "portal message handled", "msg_id": "m-2", "job": 7}',
        '{"event": "daemon started", "owner": "host:2:bb"}',
        "[1, 2]",
    ]
    work = work_log(log_events(lines))
    assert work.owners == ["host:1:aa", "host:2:bb"]
    assert work.outbox == {7, 8, 9}
    assert work.inbox == {7}
    assert work.done == 4
    assert work.ended("inbox", 7) and work.ended("outbox", 9) and not work.ended("inbox", 8)
