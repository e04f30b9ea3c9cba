"""A visit done in the EPJ to its MOA on the portal's queue: how long, per vendor.

For each vendor a fresh world (:mod:`benchmarks.engine_world`, PostgreSQL and
RabbitMQ when they are here, else the embedded backend) whose municipality
shows completed visits; one digitally active citizen with :data:`VISITS`
assigned visits, read into the store. The engine's loops run in threads, as
the daemon runs them. Then staff register the visits done one by one, at
random intervals (so that a polling vendor's visits fall anywhere in its
poll interval), and a consumer on the portal's queue notes when each visit's
``MOA`` arrives. The latency is from the call that registers the visit done
in the mock to the message taken off the broker.

Targets: under :data:`PUSH_TARGET` at p99 for a vendor that pushes (Profil);
the poll interval plus :data:`POLL_SLACK` for one that is polled (Gerica,
CosDoc). Every visit must arrive exactly once: a run that lost or doubled one
is an error, not a latency.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.engine_world import (
    BACKEND_NAMES,
    EMBEDDED,
    PRODUCTION,
    BenchWorld,
    bench_world,
    missing_servers,
    quiet,
)
from digidialog.adapters.contract import ChangeSource
from digidialog.domain import DigitalStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function, decode
from digidialog.sync.engine import EngineSettings
from digidialog.transport import Transport

VENDORS = ("profil", "gerica", "cosdoc")
VISITS, QUICK_VISITS = 40, 6
PUSH_TARGET = 1.0
POLL_SLACK = 0.2
HEADERS = ("Vendor", "Changes", "Backend", "Visits", "p50", "p99", "Max", "Target", "Result")


@dataclass(frozen=True)
class Latency:
    """One vendor's measured latencies."""

    vendor: str
    source: ChangeSource
    backend: str
    seconds: list[float]
    target: float

    @property
    def p50(self) -> float:
        """The median."""
        return statistics.median(self.seconds)

    @property
    def p99(self) -> float:
        """The 99th percentile (nearest rank)."""
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.99 * len(ordered) + 0.5) - 1)]

    @property
    def passed(self) -> bool:
        """Whether p99 is within the target."""
        return self.p99 <= self.target


class _Arrivals:
    """Takes the portal's queue in a thread of its own and notes when each MOA came."""

    def __init__(self, transport: Transport, queue: str) -> None:
        self.transport = transport
        self.queue = queue
        self.times: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            delivery = self.transport.receive(self.queue, timeout=0.2)
            if delivery is None:
                continue
            arrived = time.monotonic()
            delivery.accept()
            message = decode(delivery.envelope.body)
            if message.function is Function.APPOINTMENT_NOTICE and message.code == "MOA":
                for visit in message.appointments:
                    self.times.setdefault(visit.uid, []).append(arrived)

    def __enter__(self) -> _Arrivals:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _ready(world: BenchWorld, count: int) -> tuple[str, list[str]]:
    """A digitally active citizen whose ``count`` visits tomorrow are read into the store."""
    citizen = world.citizens[0]
    day = datetime.now(OSLO).date() + timedelta(days=1)
    visits = world.harness.seed_visits(
        citizen, count, datetime(day.year, day.month, day.day, 6, tzinfo=OSLO))
    world.portal.send_digital_status(world.municipality.her_id, citizen, DigitalStatus.ACTIVE)
    deadline = time.monotonic() + 30
    while len(world.store.appointments.of_citizen(world.municipality.her_id, citizen)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the citizen's visits were not read into the store in 30 s")
        time.sleep(0.05)
    return citizen, [v.uid for v in visits]


def measure_vendor(vendor: str, backend: str, count: int) -> Latency:
    """Register ``count`` visits done at random intervals and time each MOA."""
    with tempfile.TemporaryDirectory() as directory, \
            bench_world(backend, Path(directory), vendor=vendor,
                        statuses=("planned", "assigned", "completed")) as world:
        settings = EngineSettings(owner=f"bench-{world.municipality.her_id}")
        source = world.municipality.adapter.capabilities.change_source
        target = (PUSH_TARGET if source is ChangeSource.PUSH
                  else settings.poll_interval + POLL_SLACK)
        engine = world.engine(settings)
        stop = threading.Event()
        threads = [threading.Thread(target=loop, args=(stop,), daemon=True)
                   for loop in engine.loops().values()]
        for thread in threads:
            thread.start()
        consumer = world.transport_factory()
        rng = random.Random(4711)  # noqa: S311 - spacing, not secrets
        try:
            citizen, uids = _ready(world, count)
            with _Arrivals(consumer, world.apprec_queue) as arrivals:
                started: dict[str, float] = {}
                for uid in uids:
                    started[uid] = time.monotonic()
                    world.harness.complete_visit(citizen, uid)
                    time.sleep(rng.uniform(0.05, settings.poll_interval / 4))
                deadline = time.monotonic() + target + 10
                while len(arrivals.times) < count and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(0.5)  # anything sent twice would come now
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            consumer.close()
        missing = [uid for uid in uids if uid not in arrivals.times]
        doubled = [uid for uid, times in arrivals.times.items() if len(times) > 1]
        if missing or doubled:
            raise RuntimeError(f"{vendor}: {len(missing)} visit(s) never arrived, "
                               f"{len(doubled)} arrived more than once")
        return Latency(vendor, source, backend,
                       [arrivals.times[uid][0] - started[uid] for uid in uids], target)


def measure(*, quick: bool) -> tuple[list[Latency], str | None]:
    """Every vendor's latencies, on the production backend when its servers are here."""
    missing = missing_servers()
    backend = EMBEDDED if missing else PRODUCTION
    with quiet():
        return ([measure_vendor(v, backend, QUICK_VISITS if quick else VISITS)
                 for v in VENDORS], missing)


def rows(latencies: list[Latency]) -> list[list[str]]:
    """One row per vendor."""
    return [[
        lat.vendor, lat.source.value, BACKEND_NAMES[lat.backend], str(len(lat.seconds)),
        f"{lat.p50 * 1e3:,.0f} ms", f"{lat.p99 * 1e3:,.0f} ms",
        f"{max(lat.seconds) * 1e3:,.0f} ms", f"p99 <= {lat.target * 1e3:,.0f} ms",
        "PASS" if lat.passed else "FAIL",
    ] for lat in latencies]


if __name__ == "__main__":
    from benchmarks.__main__ import format_table
    from digidialog import log

    log.configure()
    found, why = measure(quick=False)
    print(format_table(HEADERS, rows(found)))
    if why:
        print(f"(embedded backend: {why})")
