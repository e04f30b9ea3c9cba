"""RabbitMQ restarted, PostgreSQL restarted, under a running daemon with traffic (issue 11).

One real ``digidialog run`` serves three municipalities (Gerica, Profil,
CosDoc) on PostgreSQL and RabbitMQ. Citizens write (to the EPJ) and staff
write (to the portal) right before the server goes away and while it is away.
Throughout, ``/readyz`` is sampled: it fails naming the server that is gone
(``broker`` or ``store``) and only that one, the process never exits and
``/healthz`` stays 200. Once the server is back the backlog drains: every
citizen message in its EPJ once with one AppRec OK at the portal, every staff
message at the portal once, nothing parked.

Marked ``disruptive``: the restart hits every process using the server, so
these run only with ``DIGIDIALOG_DISRUPTIVE=1`` (CI). The servers are started
again however a test ends (:mod:`digidialog.testing.restarts`). The figures
are printed (``-s``) for docs/reliability.md.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import pytest

from digidialog.errors import RetriableError
from digidialog.testing.crash.config import Site
from digidialog.testing.crash.messages import receipts
from digidialog.testing.crash.process import DaemonProcess, get
from digidialog.testing.crash.world import CrashWorld
from digidialog.testing.restarts import (
    broker_commands_available,
    broker_down,
    postgres_commands_available,
    postgres_down,
)
from digidialog.testing.services import amqp_url, listening, postgres_url, unavailable
from tests.proof.live import (
    at_portal,
    checks,
    in_epj,
    marker,
    one_daemon,
    ready,
    send_message,
    until,
)

OUTAGE = 10.0
"""Seconds the server stays away: every loop meets the loss, some more than once."""
TICK = 0.3
"""Seconds between a citizen's and a staff member's messages in the steady flow."""
LEAD_IN = 2.0
"""Seconds the traffic flows before the server is taken away."""
DRAIN = 120.0
"""Seconds the backlog may take to arrive after the server is back."""
FIGURES: list[str] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashWorld]:
    """One daemon serving a Gerica, a Profil and a CosDoc municipality."""
    with one_daemon(tmp_path_factory.mktemp("restarts"), "Service restarts:", FIGURES) as started:
        yield started


@dataclass
class Sample:
    """One look at the daemon and the server: when, whether the daemon's process ran, what
    its probes said, whether the server took connections."""

    at: float
    running: bool
    healthz: int
    readyz: int
    failing: dict[str, str]
    server_up: bool


@dataclass
class ReadinessWatch:
    """Samples the daemon's probes and the server's port every ``interval`` seconds, in a
    thread of its own: when the server was gone, and what ``/readyz`` said meanwhile."""

    daemon: DaemonProcess
    server: str
    """The URL of the server taken away (its port tells whether it is up)."""
    default_port: int
    interval: float = 0.2
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ReadinessWatch:
        self._thread = threading.Thread(target=self._watch, name="readiness-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _watch(self) -> None:
        while not self._stop.is_set():
            at = time.monotonic()
            up = listening(self.server, self.default_port)
            status, named = checks(self.daemon)
            self.samples.append(Sample(
                at, self.daemon.running(), get(self.daemon.url + "/healthz")[0], status,
                {k: v for k, v in named.items() if v != "ok"}, up))
            self._stop.wait(self.interval)

    def latest(self) -> Sample | None:
        """The last sample taken."""
        return self.samples[-1] if self.samples else None

    def server_gone(self) -> tuple[float, float]:
        """When the server's port was first seen closed, and first seen open again after."""
        gone = next(s.at for s in self.samples if not s.server_up)
        back = next(s.at for s in self.samples if s.at > gone and s.server_up)
        return gone, back

    def failing_span(self, check: str) -> tuple[float, float] | None:
        """When ``check`` was first and last seen failing."""
        times = [s.at for s in self.samples if check in s.failing]
        return (times[0], times[-1]) if times else None

    def reasons(self, check: str) -> list[str]:
        """The distinct reasons ``check`` failed with, in order."""
        found: list[str] = []
        for sample in self.samples:
            reason = sample.failing.get(check)
            if reason is not None and reason not in found:
                found.append(reason)
        return found


@dataclass
class Traffic:
    """What citizens and staff wrote around the outage: a steady flow in a thread of its
    own (so that some of it is always on its way when the server goes), and single rounds."""

    citizen: list[tuple[Site, str]] = field(default_factory=list)
    staff: list[str] = field(default_factory=list)
    refused: int = 0
    """Citizen messages the portal's broker did not take (the portal knows: not counted)."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start_flow(self, world: CrashWorld) -> None:
        """Every ``TICK`` seconds a citizen and a staff member of the next municipality write."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._flow, args=(world,), name="traffic",
                                        daemon=True)
        self._thread.start()

    def stop_flow(self) -> None:
        """Stop the flow (after the message in hand)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _flow(self, world: CrashWorld) -> None:
        tick = 0
        while not self._stop.is_set():
            site = world.sites[tick % len(world.sites)]
            try:
                self.citizen.append((site, send_message(world, site, marker("melding"),
                                                        citizen=tick % 2)))
            except RetriableError:
                self.refused += 1
            self._staff_writes(site)
            tick += 1
            self._stop.wait(TICK)

    def citizens_write(self, world: CrashWorld) -> None:
        """A citizen of each municipality writes (the portal sends again what its broker
        refused, as Helsenorge does)."""
        for site in world.sites:
            deadline = time.monotonic() + 60
            while True:
                try:
                    self.citizen.append((site, send_message(world, site, marker("melding"))))
                    break
                except RetriableError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

    def staff_write(self, world: CrashWorld) -> None:
        """Staff of each municipality write one message to a citizen."""
        for site in world.sites:
            self._staff_writes(site)

    def _staff_writes(self, site: Site) -> None:
        word = marker("svar")
        site.harness.write_staff_message(site.citizens[1], f"Beskjed {word}.")
        self.staff.append(word)

    def arrived(self, world: CrashWorld) -> bool:
        """Every citizen message in its EPJ with an AppRec back, every staff message at the
        portal. Profil resends the pushes it could not deliver, as Profil does."""
        world.redeliver_pushes()
        return all(in_epj(site, msg_id) and receipts(world, msg_id)[0]
                   for site, msg_id in list(self.citizen)) \
            and all(at_portal(world, word) for word in list(self.staff))

    def pending(self, world: CrashWorld) -> str:
        """What had not arrived yet, in words."""
        sent, written = list(self.citizen), list(self.staff)
        citizens = sum(1 for site, msg_id in sent
                       if not (in_epj(site, msg_id) and receipts(world, msg_id)[0]))
        staff = sum(1 for word in written if not at_portal(world, word))
        return (f"{citizens} of {len(sent)} citizen messages (EPJ + AppRec),"
                f" {staff} of {len(written)} staff messages")

    def counts(self, world: CrashWorld) -> dict[str, list[int]]:
        """Per message how often its effect happened: in the EPJ, AppRecs, at the portal."""
        return {
            "in EPJ": [in_epj(site, msg_id) for site, msg_id in self.citizen],
            "AppRecs": [receipts(world, msg_id)[0] for _, msg_id in self.citizen],
            "AppRecs OK": [int(receipts(world, msg_id)[2]) for _, msg_id in self.citizen],
            "at portal": [len(at_portal(world, word)) for word in self.staff],
        }

    def wire_duplicates(self, world: CrashWorld) -> str:
        """Arrivals at the portal beyond the first of a MsgId, by kind (the portal, like
        Helsenorge, keeps one of each MsgId: a message sent again when its sender could not
        record that it went is at-least-once on the wire, once in effect)."""
        repeated = Counter(r.function.value for r in world.portal.received() if r.duplicate)
        return ", ".join(f"{n} {kind}" for kind, n in sorted(repeated.items())) or "none"


def outage(world: CrashWorld, check: str, other: str, server: str, default_port: int,
           take_away: AbstractContextManager[None]) -> None:
    """Traffic flowing, the server taken away under it for ``OUTAGE`` seconds, then back;
    assert what the probes said and that everything arrived once; record the figures."""
    daemon = world.daemons[0]
    until(lambda: ready(daemon), 60, "ready before the restart")
    traffic = Traffic()
    with ReadinessWatch(daemon, server, default_port) as watch:
        traffic.start_flow(world)
        try:
            time.sleep(LEAD_IN)
            with take_away:
                in_flight = traffic.pending(world)
                until(lambda: check in getattr(watch.latest(), "failing", {}), 30,
                      f"/readyz naming {check}")
                time.sleep(OUTAGE / 2)
                traffic.stop_flow()  # staff wrote meanwhile; citizens too, if the broker is up
                time.sleep(OUTAGE / 2)
                assert daemon.running(), "the daemon exited while the server was away"
        finally:
            traffic.stop_flow()
        until(lambda: getattr(watch.latest(), "server_up", False), 30, "the server's port")
        traffic.citizens_write(world)  # after it: the portal's connection works again
        until(lambda: traffic.arrived(world), DRAIN, f"the backlog after the {check} returned")
        drained = time.monotonic()
        until(lambda: ready(daemon), 60, "ready again")
        time.sleep(1.0)  # a few more samples of a ready daemon
    counts = traffic.counts(world)
    span = watch.failing_span(check)
    assert span is not None, f"/readyz never named {check}"
    assert all(s.running for s in watch.samples), "the daemon's process exited"
    assert all(s.healthz == 200 for s in watch.samples), "/healthz failed: the loops stopped"
    assert all(s.readyz == 503 for s in watch.samples if check in s.failing)
    assert not any(other in s.failing for s in watch.samples), \
        f"/readyz blamed {other} too: {watch.reasons(other)}"
    assert {name: set(values) for name, values in counts.items()} == {
        "in EPJ": {1}, "AppRecs": {1}, "AppRecs OK": {1}, "at portal": {1}}, counts
    assert world.store.dead_letters.list() == []
    world.portal.assert_no_violations()
    assert daemon.running()
    gone, back = watch.server_gone()
    first, last = span
    ready_again = next(s.at for s in watch.samples if s.at > back and s.readyz == 200)
    FIGURES.append(
        f"  {check}: gone {back - gone:4.1f} s; /readyz named it {first - gone:+4.1f} s after it"
        f" went, failed {last - first:4.1f} s, 200 again {ready_again - back:+4.1f} s after it"
        f" was back; backlog drained {drained - back:+4.1f} s after it was back. On their way"
        f" when it was gone: {in_flight}; refused by the portal's broker: {traffic.refused}."
        f" {len(counts['in EPJ'])} citizen messages in the EPJ once each"
        f" with one AppRec OK, {len(counts['at portal'])} staff messages at the portal once"
        f" each; repeated arrivals at the portal: {traffic.wire_duplicates(world)}. Reason:"
        f" {watch.reasons(check)[0][:110]}")


@pytest.mark.services
@pytest.mark.disruptive
def test_a_broker_restart_is_named_and_its_backlog_drains(world: CrashWorld) -> None:
    """RabbitMQ's application stopped for 10 s and started: /readyz names the broker, the
    daemon lives through it, and every message sent around it arrives once."""
    if not broker_commands_available():
        unavailable("rabbitmqctl and rabbitmq-plugins are needed to restart the broker")
    outage(world, "broker", "store", amqp_url(), 5672, broker_down())


@pytest.mark.services
@pytest.mark.disruptive
def test_a_postgres_restart_is_named_and_its_backlog_drains(world: CrashWorld) -> None:
    """PostgreSQL stopped for 10 s and started: /readyz names the store, the daemon lives
    through it, and every message sent around it arrives once."""
    if not postgres_commands_available():
        unavailable("pg_ctlcluster and pg_lsclusters are needed to restart PostgreSQL")
    outage(world, "store", "broker", postgres_url(), 5432, postgres_down())
