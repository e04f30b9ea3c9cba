"""A takeover: two daemons under traffic, one SIGKILLed while it holds leases and never restarted.

Both daemons serve every municipality on one PostgreSQL and one broker, under
a crash run's traffic (:func:`.run.standard_traffic`). After a warm-up the
EPJs turn slow (each call waits ``epj_delay`` seconds), so that the jobs a
daemon claims stay in flight; as soon as the first daemon holds ``leases``
live leases it is SIGKILLed, the EPJs answer quickly again, and Profil pushes
to the second daemon (as a load balancer would send it there). What the dead
daemon held at its death is read from the store (pending, leased under its
owner name); the second daemon must take each over when its lease runs out
(``lease_seconds``, 5 s in crash worlds) and finish it. The traffic goes on
for a while, the backlog drains through the survivor, and every effect is
counted as a crash run counts it: once, lost or duplicated.

Only the survivor runs after the kill and nothing else writes the work
queues, so a held job found done at the end was done by it; its log names
the jobs it ended that log their end (:mod:`.worklog`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from digidialog.store import Store
from digidialog.store.schema import WORK_TABLES
from digidialog.store.workqueue import DONE, PENDING
from digidialog.testing.crash.process import DaemonProcess
from digidialog.testing.crash.report import Report
from digidialog.testing.crash.run import (
    TrafficFactory,
    drained_after,
    final_report,
    flowing,
    standard_traffic,
)
from digidialog.testing.crash.worklog import ALWAYS_LOGGED, WorkLog, work_log
from digidialog.testing.crash.world import CrashWorld, crash_world
from digidialog.testing.mockbase import Fault, FaultKind

ALWAYS = 10**6
"""A fault's ``times``: until cleared."""


@dataclass(frozen=True)
class Lease:
    """A job leased to a daemon: which queue (``inbox``, ``outbox``), which item, its kind."""

    queue: str
    item: int
    kind: str


@dataclass(frozen=True)
class TakeoverSettings:
    """What a takeover run does (see the module's docstring)."""

    seed: int
    vendors: tuple[str, ...] = ("gerica", "profil", "cosdoc")
    citizens: int = 4
    interval: float = 0.25
    """Seconds between two units of traffic."""
    warmup: float = 8.0
    """Seconds both daemons work the traffic before the EPJs turn slow."""
    epj_delay: float = 1.0
    """Seconds each EPJ call waits until the kill (below the adapters' timeout)."""
    leases: int = 3
    """Live leases the first daemon must hold when it is killed."""
    wait: float = 60.0
    """Seconds to wait for that many leases."""
    after: float = 10.0
    """Seconds the traffic goes on after the kill, at least (until every held job is done,
    at most ``drain``)."""
    drain: float = 120.0
    """Seconds the backlog may take to drain after the traffic stopped."""
    folder: Path | None = None
    traffic: TrafficFactory = standard_traffic


@dataclass
class Takeover:
    """What a takeover run found: the count, and what became of the dead daemon's leases."""

    report: Report
    victim: str
    survivor: str
    held: list[Lease]
    """Jobs the victim held (pending, leased to it) when it died."""
    finished: list[Lease]
    """Of those, the ones done at the end (by the survivor: nothing else ran)."""
    logged_by_survivor: list[Lease]
    """Of those, the ones whose end the survivor logged."""
    kill_seconds: float
    """Seconds from the start of the traffic to the kill."""
    takeover_seconds: float | None
    """Seconds from the kill until every held job was done; None if some never was."""
    work: dict[str, WorkLog] = field(default_factory=dict)
    """Each daemon's work as its log tells it."""

    @property
    def unfinished(self) -> list[Lease]:
        """Held jobs not done at the end."""
        return [lease for lease in self.held if lease not in self.finished]

    @property
    def unlogged(self) -> list[Lease]:
        """Finished jobs of a kind whose end is always logged that the survivor's log does
        not name."""
        return [lease for lease in self.finished if (lease.queue, lease.kind) in ALWAYS_LOGGED
                and lease not in self.logged_by_survivor]

    @property
    def ok(self) -> bool:
        """The count passed, the victim held leases, the survivor finished each (and logged
        each it always logs)."""
        return (self.report.ok and bool(self.held) and not self.unfinished
                and not self.unlogged)

    def render(self) -> str:
        """The report, then the takeover's figures."""
        kinds: dict[str, int] = {}
        for lease in self.held:
            kinds[lease.kind] = kinds.get(lease.kind, 0) + 1
        took = ("never" if self.takeover_seconds is None
                else f"{self.takeover_seconds:.1f} s")
        lines = [
            self.report.render(), "",
            f"takeover {'PASSED' if self.ok else 'FAILED'}: {self.victim} SIGKILLed after "
            f"{self.kill_seconds:.0f} s holding {len(self.held)} lease(s) "
            f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
            f"{len(self.finished)} finished by {self.survivor} within {took} of the kill, "
            f"{len(self.logged_by_survivor)} of them named in its log; "
            f"{len(self.unfinished)} unfinished",
        ]
        lines += [f"  {name}: {log.done} jobs logged done over {len(log.owners)} incarnation(s)"
                  for name, log in self.work.items()]
        return "\n".join(lines)


def owner_of(daemon: DaemonProcess, timeout: float = 30.0) -> str:
    """The lease owner name of ``daemon``'s running incarnation (its last start logged)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owners = work_log(daemon.events()).owners
        if len(owners) == daemon.incarnations:
            return owners[-1]
        time.sleep(0.05)
    raise RuntimeError(f"{daemon.name} logged no start within {timeout:g} s")


def leases_held(store: Store, owner: str, *, live: bool = False) -> list[Lease]:
    """The pending jobs leased to ``owner`` (only those whose lease runs yet, if ``live``)."""
    found = []
    now = store.db.now()
    with store.db.read() as connection:
        for name, table in WORK_TABLES.items():
            where = [table.c.leased_by == owner, table.c.state == PENDING]
            if live:
                where.append(table.c.lease_until > now)
            rows = connection.execute(
                select(table.c.id, table.c.kind).where(*where).order_by(table.c.id))
            found += [Lease(name, int(row.id), str(row.kind)) for row in rows]
    return found


def _done(store: Store, lease: Lease) -> bool:
    queue = store.inbox if lease.queue == "inbox" else store.outbox
    item = queue.get(lease.item)
    return item is not None and item.state == DONE


def _slow_epjs(world: CrashWorld, delay: float) -> None:
    for site in world.sites:
        site.harness.mock.inject(Fault(FaultKind.LATENCY, times=ALWAYS, delay=delay))


def _mend_epjs(world: CrashWorld) -> None:
    for site in world.sites:
        site.harness.mock.clear_faults()


def _kill_holding(world: CrashWorld, victim: DaemonProcess, settings: TakeoverSettings
                  ) -> list[Lease]:
    """SIGKILL ``victim`` once it holds ``settings.leases`` live leases, with the EPJs slow
    meanwhile; what it held at its death."""
    owner = owner_of(victim)
    _slow_epjs(world, settings.epj_delay)
    try:
        deadline = time.monotonic() + settings.wait
        while len(leases_held(world.store, owner, live=True)) < settings.leases:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{victim.name} held fewer than {settings.leases} leases "
                                   f"for {settings.wait:g} s")
            time.sleep(0.02)
        victim.kill()
    finally:
        _mend_epjs(world)
    # Dead, it changes nothing; its leases stand until they run out and the survivor claims.
    return leases_held(world.store, owner)


def _wait_finished(world: CrashWorld, held: list[Lease], timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if all(_done(world.store, lease) for lease in held):
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def takeover_run(settings: TakeoverSettings, say: Callable[[str], None] = print) -> Takeover:
    """Run it (see the module's docstring) and count; ``say`` hears of the progress."""
    say(f"takeover run: seed {settings.seed}, vendors {', '.join(settings.vendors)}, "
        "2 daemons")
    traffic_rng = random.Random(settings.seed + 1)  # noqa: S311 - replayable, no secret
    with crash_world(settings.vendors, daemons=2, citizens=settings.citizens,
                     folder=settings.folder) as world:
        victim, survivor = world.daemons
        with flowing(world, settings.traffic, traffic_rng, settings.interval,
                     name="takeover-traffic") as flow:
            time.sleep(settings.warmup)
            held = _kill_holding(world, victim, settings)
            killed = time.monotonic()
            say(f"{victim.name} SIGKILLed after {killed - flow.started:.0f} s holding "
                f"{len(held)} lease(s); pushes go to {survivor.name}")
            world.point_pushes(survivor)
            took = _wait_finished(world, held, settings.drain)
            time.sleep(max(0.0, settings.after - (time.monotonic() - killed)))
        traffic_seconds, drained = drained_after(flow, settings.drain, say)
        kinds = list(flow.kinds)
        finished = [lease for lease in held if _done(world.store, lease)]
        report = final_report(world, kinds, flow, seed=settings.seed,
                              vendors=settings.vendors, traffic_seconds=traffic_seconds,
                              drained=drained, running=[survivor])
        work = {d.name: work_log(d.events()) for d in world.daemons}
        logged = [lease for lease in finished
                  if work[survivor.name].ended(lease.queue, lease.item)]
        return Takeover(report=report, victim=victim.name, survivor=survivor.name, held=held,
                        finished=finished, logged_by_survivor=logged,
                        kill_seconds=killed - flow.started, takeover_seconds=took, work=work)
