"""The nightly job inside ``digidialog run``: one loop per municipality, at its ``nightly`` time.

Every ``check_interval`` seconds the loop looks at the municipality's runs:

1. a run left unfinished (its owner died, stopped or failed) whose lease is
   free is claimed and resumed, but a failed one only after ``retry_after``
   seconds, so that an EPJ that is down is not hammered; a run whose owner was
   a process of this host that no longer exists (a daemon killed and
   restarted) is taken over at once, without waiting for its lease to expire;
2. otherwise, once the municipality's ``nightly`` time (Europe/Oslo) has come
   today and for at most ``catch_up`` after it (a daemon restarted at 02:20
   still runs the 02:00 job; one started at noon waits for the next night),
   tonight's run is made and worked, unless it exists already.

Tonight's run is one row, unique per municipality and night, so of several
daemons on one PostgreSQL exactly one makes it; the others find it made (or
find its lease held) and leave it. The loop tells its observer (the daemon's
metrics) how each run it worked ended.
"""

from __future__ import annotations

import threading
import time as monotonic
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from digidialog.domain.timezone import OSLO
from digidialog.errors import DigidialogError
from digidialog.log import get_logger
from digidialog.store import NightlyRunRecord, Store
from digidialog.sync.context import Municipality
from digidialog.sync.nightly.context import NightlyContext, NightlySettings, Pump
from digidialog.sync.nightly.progress import LogProgress
from digidialog.sync.nightly.run import (
    PART_NAMES,
    SCHEDULE,
    Outcome,
    execute,
    night_of,
    owner_is_dead,
)

log = get_logger("sync.nightly")

Loop = Callable[[threading.Event], None]


class NightlyObserver(Protocol):
    """Told how each nightly run ended (the daemon's metrics)."""

    def nightly_finished(self, municipality: str, *, completed: bool, duration: float,
                         at: datetime | None = None) -> None:
        """A run completed, or failed, after ``duration`` seconds."""


@dataclass(frozen=True)
class Schedule:
    """When the loop looks, how late it still starts tonight's run, how soon it retries."""

    check_interval: float = 30.0
    catch_up: timedelta = timedelta(hours=6)
    retry_after: float = 300.0


def due_night(at: time, now: datetime, catch_up: timedelta) -> str | None:
    """The night whose run is due at ``now`` (its Oslo date), or ``None`` outside the window."""
    local = now.astimezone(OSLO)
    scheduled = datetime.combine(local.date(), at, tzinfo=OSLO)
    if scheduled <= local <= scheduled + catch_up:
        return night_of(now)
    return None


class NightlyScheduler:
    """One municipality's nightly loop."""

    def __init__(self, store: Store, municipality: Municipality, *, owner: str,
                 clock: Callable[[], datetime], settings: NightlySettings | None = None,
                 schedule: Schedule | None = None, observer: NightlyObserver | None = None,
                 pump: Pump | None = None) -> None:
        self.store = store
        self.municipality = municipality
        self.owner = owner
        self.clock = clock
        self.settings = settings or NightlySettings()
        self.schedule = schedule or Schedule()
        self.observer = observer
        self.pump = pump
        self._failed_at: dict[int, float] = {}

    def loop(self, stop: threading.Event) -> None:
        """Look, work what is due, wait; until ``stop``."""
        while not stop.is_set():
            try:
                self.tick(stop)
            except DigidialogError as error:
                log.warning("nightly_schedule_waits", municipality=self.municipality.her_id,
                            reason=str(error))
            stop.wait(self.schedule.check_interval)

    def tick(self, stop: threading.Event | None = None) -> Outcome | None:
        """Claim and work one due run, if any; how it ended."""
        stop = stop or threading.Event()
        runs = self.store.nightly.runs
        her_id = self.municipality.her_id
        for unfinished in runs.unfinished(her_id):
            failed = self._failed_at.get(unfinished.id)
            if failed is not None and monotonic.monotonic() - failed < self.schedule.retry_after:
                continue
            # A killed daemon's lease would hold the run for lease_seconds (five minutes):
            # its restart (or a neighbour on this host) takes it over as run_now does.
            dead = unfinished.owner if owner_is_dead(unfinished.owner) else None
            claimed = runs.claim(unfinished.id, self.owner,
                                 lease_seconds=self.settings.lease_seconds, take_over=dead)
            if claimed is not None:
                return self._work(claimed, stop)
        at = self.municipality.nightly_at
        night = None if at is None else due_night(at, self.clock(), self.schedule.catch_up)
        if night is None or runs.of_night(her_id, night):
            return None
        made = runs.create(her_id, night, trigger=SCHEDULE, first_part=PART_NAMES[0])
        claimed = None if made is None else runs.claim(
            made, self.owner, lease_seconds=self.settings.lease_seconds)
        return None if claimed is None else self._work(claimed, stop)

    def _work(self, record: NightlyRunRecord, stop: threading.Event) -> Outcome:
        context = NightlyContext(
            store=self.store, municipality=self.municipality, owner=self.owner,
            clock=self.clock, settings=self.settings, pump=self.pump,
            progress=LogProgress(), stop=stop)
        outcome = execute(context, record)
        if outcome.result == "failed":
            self._failed_at[record.id] = monotonic.monotonic()
        else:
            self._failed_at.pop(record.id, None)
        if self.observer is not None and outcome.result in ("completed", "failed"):
            self.observer.nightly_finished(self.municipality.her_id,
                                           completed=outcome.completed,
                                           duration=outcome.seconds)
        return outcome


def nightly_loops(store: Store, municipalities: list[Municipality], *, owner: str,
                  clock: Callable[[], datetime], observer: NightlyObserver | None = None,
                  settings: NightlySettings | None = None, schedule: Schedule | None = None
                  ) -> dict[str, Loop]:
    """Named loops for a daemon's runner: ``nightly:<her_id>`` for each municipality with a
    ``nightly`` time."""
    return {
        f"nightly:{m.her_id}": NightlyScheduler(
            store, m, owner=owner, clock=clock, settings=settings, schedule=schedule,
            observer=observer).loop
        for m in municipalities if m.nightly_at is not None
    }

