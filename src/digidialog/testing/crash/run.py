"""A crash run: steady traffic both ways while daemons are SIGKILLed at random, then the count.

The seed fixes where the kills fall (how long each incarnation lives and
stays dead, which daemon dies) and what the traffic does; the same seed
replays the same schedule (the machine's timing still varies). After the last
restart the traffic stops, the backlog drains, and every effect started is
counted: once, lost or duplicated (see :mod:`.traffic`). A run passes when
nothing is lost or duplicated, nothing was parked, every AppRec the portal
sent was taken in, the portal saw no protocol violation, no log line holds
personal data, and every daemon stops cleanly on SIGTERM at the end.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from digidialog.testing.crash.appointments import Cancellations, VisitsDone
from digidialog.testing.crash.logscan import Leak, Personal, scan
from digidialog.testing.crash.messages import CitizenMessages, StaffMessages
from digidialog.testing.crash.nightly import NIGHTLY_CITIZENS, NightlyRun
from digidialog.testing.crash.process import DaemonProcess
from digidialog.testing.crash.report import Report
from digidialog.testing.crash.traffic import Pool, Traffic
from digidialog.testing.crash.world import CrashWorld, crash_world

TrafficFactory = Callable[[], Sequence[Traffic]]
"""Makes the kinds of traffic of one run (fresh objects: they keep what they sent)."""


def standard_traffic() -> list[Traffic]:
    """Citizens' and relatives' messages, staff messages, cancellations, visits done."""
    citizens = CitizenMessages()
    cancel, complete = Pool(), Pool()
    return [citizens, StaffMessages(citizens), Cancellations(cancel),
            VisitsDone(complete, cancel)]


def standard_traffic_with_nightly(citizens: int = NIGHTLY_CITIZENS) -> list[Traffic]:
    """The standard traffic and tonight's nightly run (last: it begins after the citizens
    were made digitally active), with ``citizens`` more citizens per municipality."""
    return [*standard_traffic(), NightlyRun(citizens=citizens)]


@dataclass(frozen=True)
class CrashSettings:
    """What a run does. ``up`` and ``down`` bound (uniformly) how long each incarnation
    lives once it serves before its SIGKILL, and how long it stays dead; a share
    ``startup_kills`` of the kills hits a daemon still starting (within ``startup``
    seconds of its start: migrating, declaring queues, taking up leases)."""

    seed: int
    kills: int = 20
    vendors: tuple[str, ...] = ("gerica", "profil", "cosdoc")
    daemons: int = 1
    citizens: int = 4
    interval: float = 0.25
    """Seconds between two units of traffic."""
    up: tuple[float, float] = (0.5, 6.0)
    down: tuple[float, float] = (0.0, 1.0)
    startup_kills: float = 0.2
    startup: tuple[float, float] = (0.0, 2.0)
    drain: float = 180.0
    """Seconds the backlog may take to drain after the last restart."""
    folder: Path | None = None
    traffic: TrafficFactory = standard_traffic
    """The hook: add a kind of traffic (a nightly run) by giving a factory that adds it."""


@dataclass
class Flow:
    """The traffic thread's work (:meth:`run`): ticks the kinds at ``interval``, settles
    after each, until ``stop`` is set. What fails is noted in ``failures``."""

    world: CrashWorld
    kinds: Sequence[Traffic]
    rng: random.Random
    interval: float
    stop: threading.Event = field(default_factory=threading.Event)
    ticks: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    """Monotonic time the traffic began."""

    def run(self) -> None:
        """Tick and settle until stopped."""
        while not self.stop.is_set():
            started = time.monotonic()
            kind = self.rng.choice(self.kinds)
            try:
                kind.tick(self.world, self.rng)
                self.ticks += 1
            except Exception as error:  # the run goes on; the report says what failed
                self.failures.append(f"{kind.name}: {type(error).__name__}: {error}")
            settle(self.world, self.kinds, self.failures)
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


def settle(world: CrashWorld, kinds: Sequence[Traffic], failures: list[str]) -> None:
    """What the outside world does after the fact: Profil resends, staff decide. What
    fails is noted in ``failures`` (the run goes on; the report says what failed)."""
    world.redeliver_pushes()
    for kind in kinds:
        try:
            kind.settle(world)
        except Exception as error:
            failures.append(f"{kind.name} (settling): {type(error).__name__}: {error}")


def personal_data(world: CrashWorld, kinds: Sequence[Traffic]) -> Personal:
    """Every national id, name and text the run knows of, for the log scan."""
    personal = Personal()
    personal.names.update({"Test Innbygger", "Pårørende Testesen"})
    for site in world.sites:
        personal.ids.update(site.citizens)
        adapter = site.harness.adapter()
        for record in adapter.citizens():  # the nightly's citizens too
            personal.ids.add(record.national_id)
            if record.name:
                personal.names.add(record.name)
    for kind in kinds:
        relatives = getattr(kind, "_relatives", {})
        personal.ids.update(r.id for r in relatives.values())
    return personal


def drain(world: CrashWorld, kinds: Sequence[Traffic], timeout: float,
          failures: list[str]) -> float | None:
    """Settle until every kind is done; the seconds it took, or None at the timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        settle(world, kinds, failures)
        if all(kind.done(world) for kind in kinds):
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def _kill_schedule(world: CrashWorld, settings: CrashSettings, rng: random.Random,
                   say: Callable[[str], None]) -> None:
    # A daemon's life is counted from when it serves: on a loaded machine start-up takes
    # seconds, and kills timed from the start would mostly hit daemons that hold no work
    # yet. Kills during start-up are made on purpose instead, a share of them.
    number = 0

    def kill(daemon: DaemonProcess, after: float) -> None:
        nonlocal number
        time.sleep(after)
        daemon.kill()
        number += 1
        time.sleep(rng.uniform(*settings.down))
        daemon.start()
        if number % 10 == 0 or number == settings.kills:
            say(f"kill {number}/{settings.kills}: {daemon.name} "
                f"(incarnation {daemon.incarnations})")

    while number < settings.kills:
        daemon = rng.choice(world.daemons)
        daemon.wait_started()
        kill(daemon, rng.uniform(*settings.up))
        if number < settings.kills and rng.random() < settings.startup_kills:
            kill(daemon, rng.uniform(*settings.startup))


@contextmanager
def flowing(world: CrashWorld, traffic: TrafficFactory, rng: random.Random, interval: float,
            name: str = "crash-traffic") -> Iterator[Flow]:
    """The world's daemons serving and the traffic flowing (its kinds prepared before the
    daemons start, begun once they serve), on a thread of its own until the block ends."""
    kinds = list(traffic())
    for kind in kinds:
        kind.prepare(world)
    for daemon in world.daemons:
        daemon.start()
    for daemon in world.daemons:
        daemon.wait_started()
    for kind in kinds:
        kind.begin(world)
    flow = Flow(world, kinds, rng, interval)
    thread = threading.Thread(target=flow.run, name=name, daemon=True)
    thread.start()
    try:
        yield flow
    finally:
        flow.stop.set()
        thread.join(timeout=60)


def drained_after(flow: Flow, timeout: float, say: Callable[[str], None]
                  ) -> tuple[float, float | None]:
    """With the traffic stopped: its seconds, and how long the backlog took to drain."""
    traffic_seconds = time.monotonic() - flow.started
    say(f"traffic stopped after {traffic_seconds:.0f} s ({flow.ticks} units); draining")
    return traffic_seconds, drain(flow.world, flow.kinds, timeout, flow.failures)


def crash_run(settings: CrashSettings, say: Callable[[str], None] = print) -> Report:
    """Run it all and count; ``say`` hears of the progress (the seed first)."""
    say(f"crash run: seed {settings.seed}, {settings.kills} kills, "
        f"vendors {', '.join(settings.vendors)}, {settings.daemons} daemon(s)")
    # Seeded on purpose: the seed replays the schedule (no secrets here).
    kills_rng = random.Random(settings.seed)  # noqa: S311
    traffic_rng = random.Random(settings.seed + 1)  # noqa: S311
    with crash_world(settings.vendors, daemons=settings.daemons, citizens=settings.citizens,
                     folder=settings.folder) as world:
        with flowing(world, settings.traffic, traffic_rng, settings.interval) as flow:
            _kill_schedule(world, settings, kills_rng, say)
            for daemon in world.daemons:
                daemon.wait_started()
        traffic_seconds, drained = drained_after(flow, settings.drain, say)
        return final_report(world, list(flow.kinds), flow, seed=settings.seed,
                            vendors=settings.vendors, traffic_seconds=traffic_seconds,
                            drained=drained, running=world.daemons)


def final_report(world: CrashWorld, kinds: Sequence[Traffic], flow: Flow, *, seed: int,
                 vendors: tuple[str, ...], traffic_seconds: float, drained: float | None,
                 running: Sequence[DaemonProcess]) -> Report:
    """Count every effect, stop the ``running`` daemons with SIGTERM (their exits are
    judged), scan every daemon's log for personal data: the :class:`Report`."""
    counts = [c for kind in kinds for c in kind.tally(world)]
    exits = {d.name: d.terminate() for d in running}
    personal = personal_data(world, kinds)
    leaks: list[Leak] = []
    for daemon in world.daemons:
        leaks += scan(daemon.name, daemon.lines, personal)
    return Report(
        seed=seed, kills=sum(d.kills for d in world.daemons),
        kills_serving=sum(k.serving for d in world.daemons for k in d.killed),
        incarnations=sum(d.incarnations for d in world.daemons),
        vendors=vendors, daemons=len(world.daemons),
        traffic_seconds=traffic_seconds, units=flow.ticks, drain_seconds=drained,
        counts=counts,
        dead_letters=[f"{d.kind}: {d.reason}" for d in world.store.dead_letters.list()],
        unanswered=[r.msg_id for r in world.store.receipts.pending()],
        violations=[str(v) for v in world.portal.violations()],
        leaks=[str(leak) for leak in leaks], exits=exits,
        traffic_failures=flow.failures,
        log_lines=sum(len(d.lines) for d in world.daemons), notes=list(world.notes),
    )
