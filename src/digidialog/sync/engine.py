"""The engine's loops: receive from the portal, work the inbox and outbox, follow the EPJ.

A daemon runs :meth:`Engine.loops` in threads; tests, the demo and
``run-once`` modes call :meth:`Engine.step` until nothing moves. Each loop
owns its transport (AMQP connections are not shared between threads) and
leases the work it takes under the engine's ``owner`` name, so several
daemons on one PostgreSQL and one broker share the work without doing any
of it twice.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from digidialog.adapters.contract import ChangeSource
from digidialog.errors import DigidialogError, RetriableError
from digidialog.log import get_logger
from digidialog.store import Store
from digidialog.sync.attempt import attempt
from digidialog.sync.context import Municipality
from digidialog.sync.directory import Directory
from digidialog.sync.follower import follow_once
from digidialog.sync.inbound import InboundHandler, utc_now
from digidialog.sync.jobs import EPJ_JOBS
from digidialog.sync.observer import EngineObserver, NoObserver
from digidialog.sync.receiver import receive_one
from digidialog.sync.responder import SyncResponder
from digidialog.sync.retry import RetryPolicy
from digidialog.sync.window import StoreRoster
from digidialog.sync.worker import OutboxWorker
from digidialog.transport import Transport, async_queue

log = get_logger("sync.engine")

Loop = Callable[[threading.Event], None]


def default_owner() -> str:
    """A name for this daemon's leases, unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class EngineSettings:
    """Timings of the loops."""

    owner: str = field(default_factory=default_owner)
    receive_timeout: float = 1.0
    idle_wait: float = 0.2
    poll_interval: float = 2.0
    push_poll_interval: float = 0.1
    """How often the events an EPJ pushed (kept by its adapter, locally) are read."""
    error_wait: float = 2.0
    batch: int = 20
    answer_loops: int = 1
    """Loops answering synchronous requests per municipality, each on its own connection
    (competing consumers on ``<her_id>_sync``). More let one answer wait for the broker or
    the database while another is made; measured at 50 concurrent requests, a second or
    third loop gained nothing in one process (the answers are bound by its CPU)."""
    lease_seconds: float = 60.0
    """How long a claimed job is this engine's; renewed as each job's turn comes."""


class _Lane:
    """Everything the engine keeps for one municipality."""

    def __init__(self, store: Store, municipality: Municipality, transport: Transport,
                 clock: Callable[[], datetime], policy: RetryPolicy,
                 observer: EngineObserver) -> None:
        self.municipality = municipality
        self.directory = Directory(municipality.adapter,
                                   record=StoreRoster(store, municipality.her_id))
        self.inbound = InboundHandler(store, municipality, self.directory, clock=clock,
                                      observer=observer)
        self.worker = OutboxWorker(store, municipality, self.directory, transport, clock=clock,
                                   policy=policy, observer=observer)
        self.responder = SyncResponder(store, municipality, transport, clock=clock,
                                       observer=observer)


class Engine:
    """The sync engine over a store, a transport factory and the municipalities it serves."""

    def __init__(self, store: Store, municipalities: list[Municipality],
                 transport_factory: Callable[[], Transport], *,
                 settings: EngineSettings | None = None, policy: RetryPolicy | None = None,
                 clock: Callable[[], datetime] = utc_now,
                 observer: EngineObserver | None = None) -> None:
        self.store = store
        self.observer = observer or NoObserver()
        self.municipalities = municipalities
        self.transport_factory = transport_factory
        self.settings = settings or EngineSettings()
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self._step_transport: Transport | None = None
        self._step_lanes: dict[str, _Lane] = {}

    @property
    def owner(self) -> str:
        """The name under which this engine leases work."""
        return self.settings.owner

    # ------------------------------------------------------------ one step at a time

    def step(self) -> bool:
        """Do everything that is due now, once, in this thread; whether anything moved."""
        if self._step_transport is None:
            self._step_transport = self.transport_factory()
        moved = False
        for municipality in self.municipalities:
            lane = self._step_lanes.get(municipality.her_id)
            if lane is None:
                lane = self._lane(municipality, self._step_transport)
                self._step_lanes[municipality.her_id] = lane
            while lane.responder.answer_one(timeout=0.0):
                moved = True
            while receive_one(self._step_transport, self.store, municipality=municipality.her_id,
                              queue=async_queue(municipality.her_id), timeout=0.0,
                              observer=self.observer):
                moved = True
            moved |= follow_once(self.store, municipality)[0] > 0
            moved |= self._work_once(lane)
        return moved

    def run_until_idle(self, *, max_steps: int = 1000) -> int:
        """Step until nothing moves; how many steps moved something."""
        steps = 0
        while steps < max_steps and self.step():
            steps += 1
        return steps

    # ------------------------------------------------------------ loops for a daemon

    def loops(self) -> dict[str, Loop]:
        """Named loops for a daemon's runner per municipality: answer (``answer_loops`` of
        them), receive, work and follow."""
        named: dict[str, Loop] = {}
        for municipality in self.municipalities:
            her_id = municipality.her_id
            for number in range(1, self.settings.answer_loops + 1):
                suffix = "" if number == 1 else f":{number}"
                named[f"answer:{her_id}{suffix}"] = self._answer_loop(municipality)
            # The loops that bring work in wake the one that does it, rather than leave it
            # to notice on its next idle check.
            wake = threading.Event()
            named[f"receive:{her_id}"] = self._receive_loop(municipality, wake)
            named[f"work:{her_id}"] = self._work_loop(municipality, wake)
            named[f"follow:{her_id}"] = self._follow_loop(municipality, wake)
        return named

    def _receive_loop(self, municipality: Municipality, wake: threading.Event) -> Loop:
        def loop(stop: threading.Event) -> None:
            transport = self.transport_factory()
            try:
                while not stop.is_set():
                    if self._guarded(stop, lambda: receive_one(
                            transport, self.store, municipality=municipality.her_id,
                            queue=async_queue(municipality.her_id),
                            timeout=self.settings.receive_timeout, observer=self.observer)):
                        wake.set()
            finally:
                transport.close()
        return loop

    def _answer_loop(self, municipality: Municipality) -> Loop:
        """Synchronous requests, on their own transport: the portal waits for each answer."""
        def loop(stop: threading.Event) -> None:
            transport = self.transport_factory()
            responder = SyncResponder(self.store, municipality, transport, clock=self.clock,
                                      observer=self.observer)
            try:
                while not stop.is_set():
                    self._guarded(stop, lambda: responder.answer_one(
                        timeout=self.settings.receive_timeout))
            finally:
                transport.close()
        return loop

    def _work_loop(self, municipality: Municipality, wake: threading.Event) -> Loop:
        def loop(stop: threading.Event) -> None:
            transport = self.transport_factory()
            lane = self._lane(municipality, transport)
            try:
                while not stop.is_set():
                    wake.clear()
                    if not self._guarded(stop, lambda: self._work_once(lane)):
                        wake.wait(self.settings.idle_wait)
            finally:
                self.store.inbox.release_leases(self.owner)
                self.store.outbox.release_leases(self.owner)
                transport.close()
        return loop

    def _follow_loop(self, municipality: Municipality, wake: threading.Event) -> Loop:
        # What an EPJ pushed is already here, in its adapter's local store: reading it often
        # costs little, and a visit done reaches the citizen within a fraction of a second.
        pushed = municipality.adapter.capabilities.change_source is ChangeSource.PUSH
        interval = self.settings.push_poll_interval if pushed else self.settings.poll_interval

        outage = threading.Event()  # set while the EPJ's feed cannot be read

        def take() -> bool:
            try:
                new, more = follow_once(self.store, municipality)
            except RetriableError:
                outage.set()
                raise
            if outage.is_set() and not pushed:
                # The EPJ answers again: jobs backing off from its outage go now, not after
                # their backoff (up to half a minute after a short outage). A pushing EPJ's
                # local reading says nothing of the EPJ itself.
                outage.clear()
                hastened = self.store.outbox.hasten(municipality.her_id, EPJ_JOBS)
                if hastened:
                    log.info("epj answers again: retries brought forward",
                             municipality=municipality.her_id, jobs=hastened)
                    wake.set()
            if new:
                wake.set()
            return more

        def loop(stop: threading.Event) -> None:
            while not stop.is_set():
                # Polls start every ``interval`` (the time a poll takes is part of it), so
                # that a change waits at most one interval for the next.
                started = time.monotonic()
                if not self._guarded(stop, take):
                    stop.wait(max(0.0, started + interval - time.monotonic()))
        return loop

    def _guarded(self, stop: threading.Event, work: Callable[[], bool]) -> bool:
        """Run one unit of a loop; a failure is logged and waited out, never fatal."""
        try:
            return work()
        except RetriableError as error:
            log.warning("loop waits: a service is unavailable", reason=str(error))
        except DigidialogError as error:
            log.error("loop step failed", reason=str(error))
        stop.wait(self.settings.error_wait)
        return False

    # ------------------------------------------------------------ shared work

    def _lane(self, municipality: Municipality, transport: Transport) -> _Lane:
        return _Lane(self.store, municipality, transport, self.clock, self.policy, self.observer)

    def _work_once(self, lane: _Lane) -> bool:
        owner = self.owner
        lease = self.settings.lease_seconds
        items = self.store.inbox.claim(owner, municipality=lane.municipality.her_id,
                                       limit=self.settings.batch, lease_seconds=lease)
        for item in items:
            attempt(self.store.inbox, item, owner, self.policy,
                    lambda job: lane.inbound.handle(job, owner), lease_seconds=lease)
        done = lane.worker.run_once(owner, limit=self.settings.batch, lease_seconds=lease)
        return bool(items) or done > 0
