"""The nightly job inside the daemon: at the municipality's time, once, however many daemons.

Two daemons share one store (PostgreSQL, or the SQLite file) and one broker:
each runs the engine's loops and the nightly loop under its own owner name.
Both see tonight's run due at the same moment; exactly one makes and works
it, and the portal hears everything once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from digidialog.domain import DigitalStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.sync.nightly import NightlyScheduler, Schedule, due_night, night_of
from digidialog.sync.nightly.run import PART_NAMES
from tests.engine.nightly_support import SHORT, WELCOME, municipality, utc_now
from tests.engine.world import World, eventually, world


class Runs:
    """An observer that notes each run a scheduler worked."""

    def __init__(self) -> None:
        self.finished: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def nightly_finished(self, municipality: str, *, completed: bool, duration: float,
                         at: datetime | None = None) -> None:
        """Note it."""
        with self.lock:
            self.finished.append((municipality, completed))


def a_minute_ago() -> time:
    """A nightly time that has just passed (Oslo), so tonight's run is due now."""
    now = datetime.now(OSLO)
    earlier = now - timedelta(minutes=1)
    return (earlier.time() if earlier.date() == now.date() else time(0, 0)).replace(microsecond=0)


def second_engine(here: World, owner: str) -> Engine:
    """Another daemon's engine on the same store and broker."""
    return Engine(here.store, here.engine.municipalities, here.transport_factory,
                  settings=EngineSettings(owner=owner, receive_timeout=0.2, idle_wait=0.05,
                                          poll_interval=0.2, error_wait=0.2))


@pytest.mark.parametrize("vendor_name", ["gerica"])
def test_two_daemons_run_tonights_job_once(vendor_name: str, backend: str,
                                           tmp_path: Path) -> None:
    """Two schedulers, two engines, one store: one run, each message once."""
    with world(vendor_name, backend, tmp_path, citizens=4) as here:
        for citizen in here.citizens:
            here.portal.send_digital_status(here.municipality, citizen, DigitalStatus.ACTIVE)
        here.portal.declare_digitally_active(*here.citizens)
        other = second_engine(here, f"other-{here.municipality}")
        stop = threading.Event()
        threads = [threading.Thread(target=loop, args=(stop,), daemon=True)
                   for loop in other.loops().values()]
        municipality = replace(here.engine.municipalities[0], nightly_at=a_minute_ago(),
                               welcome_message=WELCOME)
        observer = Runs()
        for owner in ("daemon-a", "daemon-b"):
            scheduler = NightlyScheduler(here.store, municipality, owner=owner, clock=utc_now,
                                         settings=SHORT, observer=observer,
                                         schedule=Schedule(check_interval=0.05))
            threads.append(threading.Thread(target=scheduler.loop, args=(stop,), daemon=True))
        for thread in threads:
            thread.start()
        try:
            portal = here.portal
            portal.wait_for(function=Function.SERVICE_NOTICE, count=4, timeout=30)
            portal.wait_for(function=Function.SERVICE_OVERVIEW, count=4, timeout=30)
            eventually(lambda: observer.finished, timeout=30, what="tonight's run finished")
            stop.wait(1.0)  # both loops look again: tonight's run is done
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
        night = datetime.now(OSLO).date().isoformat()
        [run] = here.store.nightly.runs.of_night(here.municipality, night)
        assert run.state == "completed" and run.trigger == "schedule"
        assert observer.finished == [(here.municipality, True)]
        asked = Counter(p.id for q in portal.status_questions() for p in q.message.persons)
        assert asked == Counter(here.citizens)
        for function in (Function.SERVICE_OVERVIEW, Function.SERVICE_NOTICE):
            assert Counter(r.citizen_id for r in portal.received(function)) == \
                Counter(here.citizens)
        assert not [r for r in portal.received() if r.duplicate]
        portal.assert_no_violations()


def test_tonights_run_is_due_from_its_time_for_the_catch_up_window() -> None:
    """Due from the nightly time (Oslo) until catch-up has passed; the night is the Oslo date."""
    at = time(2, 0)
    window = timedelta(hours=6)

    def oslo(hour: int, minute: int = 0, day: int = 5) -> datetime:
        return datetime(2026, 3, day, hour, minute, tzinfo=OSLO)

    assert due_night(at, oslo(1, 59), window) is None
    assert due_night(at, oslo(2, 0), window) == "2026-03-05"
    assert due_night(at, oslo(7, 59), window) == "2026-03-05"
    assert due_night(at, oslo(8, 1), window) is None
    # Summer time starts on 2026-03-29: 02:00-03:00 does not exist; 02:30 means 03:30.
    assert due_night(time(2, 30), datetime(2026, 3, 29, 1, 40, tzinfo=OSLO), window) is None
    assert due_night(time(2, 30), datetime(2026, 3, 29, 3, 35, tzinfo=OSLO),
                     window) == "2026-03-29"


def a_dead_pid() -> int:
    """The process id of a process that has exited (and been reaped)."""
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    probe.wait()
    return probe.pid


@pytest.mark.parametrize("vendor_name", ["gerica"])
def test_a_restarted_daemon_takes_over_at_once_the_run_its_killed_self_held(
        vendor_name: str, backend: str, tmp_path: Path) -> None:
    """A daemon SIGKILLed mid-run leaves tonight's run leased to a process that no longer
    exists; the restarted daemon's scheduler resumes it at once, not when the five-minute
    lease expires (crash harness, issue 11). A live holder's lease is still respected."""
    with world(vendor_name, backend, tmp_path, citizens=2) as here:
        here.portal.declare_digitally_active(*here.citizens)
        runs = here.store.nightly.runs
        host = socket.gethostname()
        night = night_of(utc_now())
        made = runs.create(here.municipality, night, trigger="schedule",
                           first_part=PART_NAMES[0])
        assert made is not None
        settings = replace(SHORT, lease_seconds=300.0)
        scheduler = NightlyScheduler(here.store, municipality(here), owner=f"{host}:1:restarted",
                                     clock=utc_now, settings=settings,
                                     schedule=Schedule(check_interval=0.05))
        # Held by a live process of this host (this test's parent): left alone.
        assert runs.claim(made, f"{host}:{os.getppid()}:alive", lease_seconds=300.0)
        assert scheduler.tick() is None
        assert runs.release(made, f"{host}:{os.getppid()}:alive")
        assert runs.claim(made, f"{host}:{a_dead_pid()}:killed", lease_seconds=300.0)
        outcome = scheduler.tick()
        assert outcome is not None and outcome.completed, outcome
        [run] = runs.of_night(here.municipality, night)
        assert run.state == "completed"
        overviews = here.portal.wait_for(function=Function.SERVICE_OVERVIEW, count=2,
                                         timeout=30)
        assert Counter(o.citizen_id for o in overviews) == Counter(here.citizens)
