"""A nightly run killed half way, then resumed by another process: nothing is sent twice.

The kill comes from the run's own progress report, right after a batch
committed, as a ``BaseException`` that nothing in the run catches: the run
is left as a killed process leaves it, holding its lease. Another owner
claims it once the lease has expired and finishes it from its cursor.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from digidialog.domain import DigitalStatus
from digidialog.helsenorge import Function
from digidialog.sync.nightly import run_now
from tests.engine.nightly_support import SHORT, context, tomorrow_at
from tests.engine.world import World, eventually, world

LEASE = 1.0


class Killed(BaseException):
    """The process died (nothing may catch this)."""


class KillAfter:
    """A progress report that kills the run after ``batches`` batches of ``part``."""

    def __init__(self, part: str, batches: int = 1) -> None:
        self.part = part
        self.left = batches

    def begin(self, municipality: str, part: str, total: int | None) -> None:
        """Nothing."""

    def advance(self, municipality: str, part: str, done: int) -> None:
        """Die after the chosen batch."""
        if part == self.part:
            self.left -= 1
            if self.left <= 0:
                raise Killed(part)

    def end(self, municipality: str, part: str, counts: dict[str, int]) -> None:
        """Nothing."""


def prepare(world: World) -> None:
    """Five citizens who consented today (SDAB), each with visits tomorrow."""
    for citizen in world.citizens:
        world.portal.send_digital_status(world.municipality, citizen, DigitalStatus.ACTIVE)
        world.harness.seed_visits(citizen, 2, tomorrow_at(9))
    world.portal.declare_digitally_active(*world.citizens)
    eventually(lambda: all(world.harness.digitally_active(c) for c in world.citizens),
               timeout=20, what="every SDAB passed to the EPJ")


@pytest.mark.parametrize(("vendor_name", "part"), [
    ("gerica", "status"), ("gerica", "answers"), ("gerica", "overview"),
    ("gerica", "welcome"), ("gerica", "appointments"), ("cosdoc", "appointments"),
])
def test_a_run_killed_half_way_resumes_and_sends_nothing_twice(
        vendor_name: str, part: str, backend: str, tmp_path: Path) -> None:
    """Killed after the first batch of ``part``; another owner resumes after the lease."""
    with world(vendor_name, backend, tmp_path, citizens=5) as here:
        prepare(here)
        settings = replace(SHORT, lease_seconds=LEASE)
        with pytest.raises(Killed):
            run_now(context(here, owner="first", settings=settings, progress=KillAfter(part)))
        [left] = here.store.nightly.runs.unfinished(here.municipality)
        assert left.owner == "first" and left.part == part
        busy = run_now(context(here, owner="second", settings=settings))
        assert busy.result == "busy", "the lease of the killed run still holds"
        time.sleep(LEASE + 0.2)
        resumed = run_now(context(here, owner="second", settings=settings))
        assert resumed.completed and resumed.run_id == left.id

        portal = here.portal
        asked = Counter(p.id for q in portal.status_questions() for p in q.message.persons)
        assert asked == Counter(here.citizens), "everyone asked about exactly once"
        overviews = portal.wait_for(function=Function.SERVICE_OVERVIEW, count=5, timeout=20)
        welcomes = portal.wait_for(function=Function.SERVICE_NOTICE, count=5, timeout=20)
        time.sleep(0.5)  # anything sent twice would arrive by now
        for sent in (portal.overviews(), portal.received(Function.SERVICE_NOTICE)):
            assert Counter(r.citizen_id for r in sent) == Counter(here.citizens)
        assert len(overviews) == len(welcomes) == 5
        assert not [r for r in portal.received() if r.duplicate]
        for citizen in here.citizens:
            assert len(here.store.appointments.of_citizen(here.municipality, citizen)) == 2
        run = here.store.nightly.runs.get(left.id)
        assert run is not None and run.state == "completed"
        portal.assert_no_violations()
