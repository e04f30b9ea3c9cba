"""Where the engine's time per message goes: its stages run one after another, in one thread.

The threaded engine overlaps its stages, so its rate alone does not say what
costs what. Here the same functions its loops call are run stage by stage
over ``count`` fresh citizen messages, each stage timed on its own:

- *receive + store*: :func:`~digidialog.sync.receiver.receive_one` (take a
  message from the broker, store it in the inbox in one transaction, settle);
- *inbound handling*: inbox claims and :class:`InboundHandler` (decode, the
  access rules, the AppRec encoded, thread, link and EPJ job written in one
  transaction);
- *AppRec send*: the outbox's portal jobs (send with the broker's confirm, the
  job completed in one transaction);
- *EPJ delivery*: the outbox's EPJ jobs (a SOAP call into the mock, the job
  completed in one transaction).

The sum is what one message costs the engine when nothing overlaps.
:func:`profile` runs the same stages under :mod:`cProfile`, which sees every
call because everything runs in this thread:
``python -m benchmarks.engine_stages [COUNT]`` prints its report.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, event

from benchmarks.engine_world import (
    BACKEND_NAMES,
    EMBEDDED,
    PRODUCTION,
    BenchWorld,
    bench_world,
    missing_servers,
    quiet,
)
from digidialog import log
from digidialog.sync import jobs
from digidialog.sync.attempt import attempt
from digidialog.sync.directory import Directory
from digidialog.sync.inbound import InboundHandler, utc_now
from digidialog.sync.receiver import receive_one
from digidialog.sync.retry import RetryPolicy
from digidialog.sync.worker import OutboxWorker
from digidialog.transport import async_queue

RECEIVE = "receive + store"
INBOUND = "inbound handling"
APPREC = "AppRec send"
EPJ = "EPJ delivery"
STAGES = (RECEIVE, INBOUND, APPREC, EPJ)
BATCH = 20
"""Jobs claimed at a time, as the engine's default ``batch``."""


class _Stages:
    """The engine's parts for one municipality, driven stage by stage."""

    def __init__(self, world: BenchWorld, owner: str) -> None:
        self.owner = owner
        self.store = world.store
        self.transport = world.transport_factory()
        municipality = world.municipality
        self.her_id = municipality.her_id
        directory = Directory(municipality.adapter)
        self.inbound = InboundHandler(self.store, municipality, directory)
        self.worker = OutboxWorker(self.store, municipality, directory, self.transport,
                                   clock=utc_now)
        self.policy = RetryPolicy()
        self.queue = async_queue(municipality.her_id)
        # Attach to the (still empty) queue, so that no stage pays for connecting.
        if self.transport.receive(self.queue, timeout=0) is not None:
            raise RuntimeError(f"{self.queue} is not empty before the stages")

    def close(self) -> None:
        self.transport.close()

    def receive(self, count: int) -> None:
        for _ in range(count):
            if not receive_one(self.transport, self.store, municipality=self.her_id,
                               queue=self.queue, timeout=10.0):
                raise RuntimeError("a preloaded message did not arrive within 10 s")

    def drain(self) -> None:
        """Take what is left on the queue, untimed.

        The portal's transport, idle through the engine's run, may have sent a message
        twice (it found its connection dead after the send and sent again): one
        delivery more than ``count``, which the inbox takes as the duplicate it is.
        """
        while receive_one(self.transport, self.store, municipality=self.her_id,
                          queue=self.queue, timeout=1.0):
            pass

    def handle(self, count: int) -> None:
        handled = 0
        while items := self.store.inbox.claim(self.owner, municipality=self.her_id,
                                              limit=BATCH):
            for item in items:
                if not attempt(self.store.inbox, item, self.owner, self.policy,
                               lambda job: self.inbound.handle(job, self.owner)):
                    raise RuntimeError("a citizen message could not be handled")
            handled += len(items)
        if handled != count:
            raise RuntimeError(f"{handled} messages were handled, not {count}; the inbox: "
                               f"{self.store.inbox.depth(self.her_id)}")

    def outbox(self, kind: str, count: int) -> None:
        done = 0
        while claimed := self.worker.run_once(self.owner, limit=BATCH, kinds=[kind]):
            done += claimed
        if done != count:
            raise RuntimeError(f"{done} {kind} jobs were done, not {count}")


@dataclass(frozen=True)
class StageCost:
    """What one stage costs per message."""

    seconds: float
    """Wall time."""
    cpu_seconds: float
    """CPU time of the process (the mock's, during a SOAP call, included)."""
    transactions: float
    """Connections taken from the store's pool: one per transaction, reading or writing."""
    statements: float
    """SQL statements executed (PostgreSQL's pool-checkout ping not counted)."""


class _Counts:
    """Counts the store's transactions and statements while it is listening."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.transactions = self.statements = 0

    def _checkout(self, *_: object) -> None:
        self.transactions += 1

    def _statement(self, *_: object) -> None:
        self.statements += 1

    def __enter__(self) -> _Counts:
        event.listen(self.engine, "checkout", self._checkout)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "checkout", self._checkout)
        event.remove(self.engine, "before_cursor_execute", self._statement)


def _cost(world: BenchWorld, count: int, work: Callable[[], None]) -> StageCost:
    with _Counts(world.store.engine) as counts:
        started, cpu_started = time.perf_counter(), time.process_time()
        work()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return StageCost(seconds / count, cpu / count, counts.transactions / count,
                     counts.statements / count)


def _run(world: BenchWorld, count: int, owner: str) -> dict[str, StageCost]:
    stages = _Stages(world, owner)
    try:
        world.preload(count)
        costs = {RECEIVE: _cost(world, count, lambda: stages.receive(count))}
        stages.drain()
        costs[INBOUND] = _cost(world, count, lambda: stages.handle(count))
        costs[APPREC] = _cost(world, count, lambda: stages.outbox(jobs.PORTAL_SEND, count))
        costs[EPJ] = _cost(world, count, lambda: stages.outbox(jobs.EPJ_DELIVER, count))
        return costs
    finally:
        stages.close()


def stage_costs(world: BenchWorld, count: int) -> dict[str, StageCost]:
    """What each stage costs per message, over ``count`` fresh messages in ``world``."""
    return _run(world, count, owner="bench-stages")


def profile(world: BenchWorld, count: int, *, lines: int = 40) -> str:
    """The stages over ``count`` fresh messages under cProfile: the top of the report."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        _run(world, count, owner="bench-profile")
    finally:
        profiler.disable()
    out = io.StringIO()
    report = pstats.Stats(profiler, stream=out).strip_dirs()
    report.sort_stats("cumulative").print_stats(lines)
    report.sort_stats("tottime").print_stats(lines)
    return out.getvalue()


def main(argv: list[str]) -> None:
    """Print the cProfile report of the stages over ``argv[0]`` messages (default 300)."""
    count = int(argv[0]) if argv else 300
    backend = EMBEDDED if missing_servers() else PRODUCTION
    log.configure()  # as the daemon logs, into the void
    with tempfile.TemporaryDirectory() as directory, quiet(), \
            bench_world(backend, Path(directory)) as world:
        report = profile(world, count)
    print(f"The stages over {count} messages on {BACKEND_NAMES[backend]}, cProfile:\n{report}")


if __name__ == "__main__":
    main(sys.argv[1:])
