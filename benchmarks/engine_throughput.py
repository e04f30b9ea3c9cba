"""Citizen messages per second through one engine, next to a bare consumer on the same broker.

For each backend a fresh world (:mod:`benchmarks.engine_world`) gets ``count``
citizen messages on the municipality's queue, built and sent by the portal
simulator before the clock starts. Then the engine's loops start in threads,
as the daemon runs them, and the clock runs until ``count`` AppRecs have come
off the portal's queue (taken by :mod:`benchmarks.portal_counter` in a
process of its own, as the portal is elsewhere) *and* the EPJ mock (Gerica,
in this process) holds ``count`` messages.
Afterwards every AppRec is decoded and checked (OK, about one of the messages
sent) and the EPJ must hold each message exactly once: a run that lost or
doubled anything is an error, not a rate. The engine logs as the daemon does
(JSON lines, masked), into the void.

Beside it, in the same run:

- the bare consumer (:mod:`benchmarks.bare_consumer`) on the same broker, with
  messages of the same size and the engine's prefetch, just before and just
  after the engine's run (their mean counts): the ratio is the figure (target:
  the engine within :data:`TARGET_FACTOR` times of it);
- the codec's share of the engine's time per message: one decode of the
  citizen message plus one encode of the AppRec, the very bytes of the run,
  timed as :mod:`benchmarks.codec_rates` times (best CPU time), divided by
  the engine's wall time per message (target: under :data:`CODEC_LIMIT`);
- the stages one after another (:mod:`benchmarks.engine_stages`), to show
  where the time goes.

``python -m benchmarks`` prints this section; ``python -m benchmarks.engine_stages``
profiles the stages.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import engine_stages
from benchmarks.bare_consumer import bare_consumer_rate
from benchmarks.codec_rates import FULL, QUICK, best_seconds_per_call
from benchmarks.engine_stages import StageCost
from benchmarks.engine_world import (
    BACKEND_NAMES,
    EMBEDDED,
    PRODUCTION,
    BenchWorld,
    bench_world,
    broker,
    missing_servers,
    quiet,
)
from benchmarks.portal_counter import PortalCounter
from digidialog.helsenorge import Function, decode, encode
from digidialog.testing.portal import Sent

FULL_COUNT = 1000
QUICK_COUNT = 20
TARGET_FACTOR = 3.0
"""The issue's target: the engine's rate at least a third of the bare consumer's."""
CODEC_LIMIT = 0.05
"""The issue's target: decode and encode under 5 % of the engine's time per message."""


@dataclass(frozen=True)
class EngineRun:
    """One timed engine run and the codec's cost for the same bytes."""

    backend: str
    count: int
    message_bytes: int
    seconds: float
    cpu_seconds: float
    """CPU time of the engine's process meanwhile: every engine thread and the EPJ mock."""
    decode_seconds: float
    encode_seconds: float
    stages: dict[str, StageCost]
    """What each stage costs per message, run one after another."""

    @property
    def per_second(self) -> float:
        """Citizen messages per second, from the broker into the EPJ with the AppRec back."""
        return self.count / self.seconds

    @property
    def per_message(self) -> float:
        """Wall seconds per message."""
        return self.seconds / self.count

    @property
    def codec_share(self) -> float:
        """Decode plus encode as a share of the engine's time per message."""
        return (self.decode_seconds + self.encode_seconds) / self.per_message


@dataclass(frozen=True)
class Report:
    """Every measurement of this section; ``skipped`` says why the broker row is missing."""

    runs: list[EngineRun]
    bare_per_second: float | None
    skipped: str | None


def _epj_holds(world: BenchWorld, count: int, deadline: float) -> None:
    while len(world.harness.delivered_messages()) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the EPJ did not get every message in time")
        time.sleep(0.005)


def _timed_run(world: BenchWorld, count: int) -> tuple[float, float, list[bytes]]:
    """Start the engine's loops in threads; wall and CPU seconds until every AppRec is on the
    portal's side and every message in the EPJ; the AppRecs."""
    engine = world.engine()
    patience = 60 + count * 0.2
    counter = PortalCounter(world.apprec_source(), count, patience)
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), name=name, daemon=True)
               for name, loop in engine.loops().items()]
    try:
        counter.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.start()
        bodies = counter.bodies()
        _epj_holds(world, count, time.monotonic() + patience)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    finally:
        stop.set()
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(timeout=30)
        counter.close()
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("the engine's loops did not stop within 30 s")
    return seconds, cpu_seconds, bodies


def _check(world: BenchWorld, sent: Sequence[Sent], apprecs: Sequence[bytes]) -> None:
    """Every message answered OK once and in the EPJ once, or the run does not count."""
    wanted = sorted(s.msg_id or "" for s in sent)  # a built message always has its MsgId
    answered = []
    for body in apprecs:
        message = decode(body)
        receipt = message.receipt
        if message.function is not Function.RECEIPT or receipt is None or \
                receipt.status.value != "ok":
            raise RuntimeError(f"not an AppRec OK: {message.function.value} {message.code}")
        answered.append(receipt.original_msg_id)
    if sorted(answered) != wanted:
        raise RuntimeError("the AppRecs are not one for each message sent")
    delivered = [m["message_id"] for m in world.harness.delivered_messages()]
    if sorted(delivered) != wanted:
        raise RuntimeError("the EPJ does not hold each message exactly once")


def measure_engine(backend: str, count: int, directory: Path, *, quick: bool,
                   baseline: Callable[[int], float] | None = None
                   ) -> tuple[EngineRun, float | None]:
    """One engine run of ``count`` messages on ``backend``, its codec cost and its stages.

    ``baseline(size)``, when given, is measured just before and just after the
    engine's run (messages of the run's size); the mean of both is returned with
    the run, so that a machine getting busier or quieter meanwhile favours
    neither side.
    """
    with bench_world(backend, directory) as world:
        sent = world.preload(count)
        size = len(sent[0].envelope.body)
        before = baseline(size) if baseline else 0.0
        seconds, cpu_seconds, apprecs = _timed_run(world, count)
        after = baseline(size) if baseline else 0.0
        _check(world, sent, apprecs)
        stages = engine_stages.stage_costs(world, count)
    citizen_bytes, apprec = sent[0].envelope.body, decode(apprecs[0])
    codec = best_seconds_per_call({"decode": lambda: decode(citizen_bytes),
                                   "encode": lambda: encode(apprec)},
                                  QUICK if quick else FULL)
    run = EngineRun(backend, count, size, seconds, cpu_seconds, codec["decode"],
                    codec["encode"], stages)
    return run, (before + after) / 2 if baseline else None


def measure(*, quick: bool, count: int | None = None) -> Report:
    """Both backends' engine runs and the bare consumer, as the section reports them."""
    count = count or (QUICK_COUNT if quick else FULL_COUNT)
    skipped = missing_servers()
    with tempfile.TemporaryDirectory(prefix="digidialog-bench-") as directory, quiet():
        embedded, _ = measure_engine(EMBEDDED, count, Path(directory), quick=quick)
        if skipped is not None:
            return Report([embedded], None, skipped)
        production, bare = measure_engine(
            PRODUCTION, count, Path(directory), quick=quick,
            baseline=lambda size: bare_consumer_rate(broker(), count, size=size))
    return Report([production, embedded], bare, None)


RATE_HEADERS = ("Backend", "Consumer", "Messages", "Size", "Rate msg/s", "Per message",
                "CPU per message", "vs bare", "Target", "Result")
CODEC_HEADERS = ("Backend", "Decode message", "Encode AppRec", "Engine per message",
                 "Codec share", "Target", "Result")
STAGE_HEADERS = ("Backend", "Stage", "Per message", "Share", "CPU", "Transactions",
                 "Statements")


_COST_FIELDS = ("seconds", "cpu_seconds", "transactions", "statements")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def rate_rows(report: Report) -> list[list[str]]:
    """The bare consumer, then each engine run with its verdict (broker backend only)."""
    rows = []
    if report.bare_per_second is not None:
        bare = report.bare_per_second
        size = report.runs[0].message_bytes
        rows.append([BACKEND_NAMES[PRODUCTION], "bare consumer (receive + accept)",
                     f"{report.runs[0].count:,}", f"{size:,} B", f"{bare:,.0f}",
                     _ms(1 / bare), "", "1.00x", "", ""])
    for run in report.runs:
        cells = [BACKEND_NAMES[run.backend], "engine (to EPJ mock, AppRec back)",
                 f"{run.count:,}", f"{run.message_bytes:,} B", f"{run.per_second:,.0f}",
                 _ms(run.per_message), _ms(run.cpu_seconds / run.count)]
        if run.backend == PRODUCTION and report.bare_per_second is not None:
            factor = report.bare_per_second / run.per_second
            cells += [f"{factor:.2f}x slower", f"<= {TARGET_FACTOR:g}x",
                      "PASS" if factor <= TARGET_FACTOR else "FAIL"]
        else:
            cells += ["-", "(no target)", ""]
        rows.append(cells)
    if report.skipped:
        rows.append([BACKEND_NAMES[PRODUCTION], f"skipped: {report.skipped}",
                     *[""] * (len(RATE_HEADERS) - 2)])
    return rows


def codec_rows(report: Report) -> list[list[str]]:
    """Decode plus encode against the engine's time per message, per backend."""
    return [
        [BACKEND_NAMES[run.backend], _us(run.decode_seconds), _us(run.encode_seconds),
         _ms(run.per_message), f"{run.codec_share:.1%}", f"< {CODEC_LIMIT:.0%}",
         "PASS" if run.codec_share < CODEC_LIMIT else "FAIL"]
        for run in report.runs
    ]


def stage_rows(report: Report) -> list[list[str]]:
    """Each stage's cost per message and share of their sum, per backend."""
    rows = []
    for run in report.runs:
        name, costs = BACKEND_NAMES[run.backend], list(run.stages.values())
        total = StageCost(*(sum(getattr(c, f) for c in costs) for f in _COST_FIELDS))
        rows += [[name, stage, _ms(cost.seconds), f"{cost.seconds / total.seconds:.0%}",
                  _ms(cost.cpu_seconds), f"{cost.transactions:.2f}", f"{cost.statements:.2f}"]
                 for stage, cost in run.stages.items()]
        rows.append([name, "sum, one after another", _ms(total.seconds), "100%",
                     _ms(total.cpu_seconds), f"{total.transactions:.2f}",
                     f"{total.statements:.2f}"])
        rows.append([name, "engine, loops in threads", _ms(run.per_message),
                     f"{run.per_message / total.seconds:.0%}",
                     _ms(run.cpu_seconds / run.count), "", ""])
    return rows
