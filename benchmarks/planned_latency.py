"""HentPlanlagteTimer latency over RabbitMQ at 50 concurrent requests, next to a bare echo.

A citizen with 60 visits (assigned visits, planned weekly windows with
paused dates, cancelled future visits) is put in the Gerica mock, read into
a fresh PostgreSQL store through the engine's own first-contact read, and
the services and recipients listed into the roster by the engine's
directory. Then, in one run, on one broker:

- the **echo**: a bare responder (receive, send a canned answer of the same
  size to ``reply-to`` with the ``correlation-id``, accept; one thread, one
  connection), just before and just after the engine; both runs pooled;
- the **engine**: every loop of one municipality in threads, as the daemon
  runs them; the answer loop takes each request from ``<her_id>_sync``,
  builds the answer from the store and sends it.

Both are asked by the same :mod:`benchmarks.sync_requesters`: 50 requesters
in child processes, each with one request in flight. Target (issue 9): the
engine's p99 within 2x of the echo's and under 100 ms. Afterwards every
answer is checked (an ``01`` with the 60 visits).

``python -m benchmarks.planned_latency [--quick]`` prints the table alone;
:func:`stage_costs` times the parts of one answer, in one thread, to show
where its time goes.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from benchmarks.engine_world import broker, missing_servers, postgres, quiet
from benchmarks.planned_stages import StageCost, stage_costs
from benchmarks.sync_requesters import Job, Requesters
from digidialog import log
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import decode, encode
from digidialog.store import Store
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.directory import Directory
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.sync.planned import PlannedAppointments
from digidialog.sync.window import StoreRoster, read_window
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import build
from digidialog.testing.services import fresh_postgres_schema
from digidialog.transport import Envelope, async_queue, error_queue, sync_queue, syncreply_queue
from digidialog.transport.amqp import AmqpTransport

CONCURRENCY = 50
VISITS = 60
PROCESSES = 2
"""Child processes the requesters are spread over."""
FULL_ROUNDS = 21
QUICK_ROUNDS = 2
"""Requests per requester, the untimed first included: 1,000 timed (50 with --quick)."""
ALONE_ROUNDS, QUICK_ALONE_ROUNDS = 21, 6
"""Requests of the one requester alone, the untimed first included."""
TARGET_FACTOR = 2.0
TARGET_P99 = 0.100


@dataclass(frozen=True)
class Latencies:
    """The timed requests of one responder, in seconds."""

    responder: str
    samples: list[float]

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (nearest rank)."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        """The median."""
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        """The 99th percentile."""
        return self.quantile(0.99)


@dataclass(frozen=True)
class Report:
    """Every measurement of the section; ``skipped`` says why there are none."""

    runs: list[Latencies]
    """Echo and engine alone (concurrency 1), then at :data:`CONCURRENCY`: echo, engine."""
    stages: dict[str, StageCost]
    answer_bytes: int
    answer_loops: int
    skipped: str | None = None


@dataclass
class LatencyWorld:
    """A municipality on PostgreSQL and RabbitMQ whose citizen has :data:`VISITS` visits."""

    harness: ConformanceHarness
    store: Store
    municipality: Municipality
    service: str
    citizen: str
    reply_queues: list[str]
    echo_queue: str

    def request(self) -> bytes:
        """A HentPlanlagteTimer for the citizen, addressed to the municipality, encoded."""
        message = build.planned_appointments_request(
            build.portal_party(self.municipality.portal_her_id, "100001"),
            build.municipal_party(self.municipality.her_id, None), self.citizen,
            datetime.now(OSLO))
        return encode(message)

    def engine(self, answer_loops: int | None = None) -> Engine:
        """An engine over this world with the daemon's default timings (and loops)."""
        settings = EngineSettings(owner=f"bench-{self.municipality.her_id}")
        if answer_loops is not None:
            settings = replace(settings, answer_loops=answer_loops)
        return Engine(self.store, [self.municipality], lambda: AmqpTransport(broker()),
                      settings=settings)


def _expire_queues() -> None:
    """Have RabbitMQ drop benchmark worlds' queues a minute after their last use (deleting
    the 57 queues one by one takes rabbitmqctl half a minute)."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is not None:
        subprocess.run(  # noqa: S603 - fixed argv
            [rabbitmqctl, "-q", "set_policy", "--apply-to", "queues", "digidialog-bench-worlds",
             "^98[0-9]+_", '{"expires": 60000}'], capture_output=True, timeout=60, check=False)


def _her_id() -> str:
    """A HER-id no other world uses (the tests' worlds start theirs with 97)."""
    return f"98{uuid.uuid4().int % 10**8:08d}"


def sixty_visits(harness: ConformanceHarness, citizen: str, now: datetime) -> None:
    """40 assigned visits, 10 planned weekly windows with two paused dates each, 10 cancelled
    future visits: all to come, so all 60 are shown."""
    harness.seed_visits(citizen, 40, now + timedelta(hours=2))
    add = harness.mock.add_appointment  # type: ignore[attr-defined]
    first = (now + timedelta(days=1)).replace(hour=7, minute=0, second=0, microsecond=0)
    for n in range(10):
        start = first + timedelta(days=n % 5, hours=n)
        add(citizen, Appointment(
            uid=f"serie-{n}", series=f"serie-{n}", status=AppointmentStatus.PLANNED,
            start=start, end=start + timedelta(hours=2), service_id="HSP",
            expected_duration=timedelta(minutes=30),
            recurrence=Recurrence(frequency=Frequency.WEEKLY, by_day=(Weekday.MO, Weekday.TH),
                                  until=(start + timedelta(days=35)).date(),
                                  paused=(start + timedelta(days=7), start + timedelta(days=14)))))
        cancelled = now + timedelta(days=3 + n, hours=1)
        add(citizen, Appointment(
            uid=f"avlyst-{n}", status=AppointmentStatus.CANCELLED, start=cancelled,
            end=cancelled + timedelta(minutes=30), service_id="PB",
            cancellation_reason=CancellationReason.BY_CITIZEN))


@contextmanager
def latency_world() -> Iterator[LatencyWorld]:
    """The world, seeded and read; the schema dropped afterwards, the queues expire."""
    municipality, portal, service, second = _her_id(), _her_id(), _her_id(), _her_id()
    reply_queues = [f"{syncreply_queue(portal)}_{n}" for n in range(CONCURRENCY)]
    echo_queue = f"{sync_queue(portal)}_echo"
    queues = [async_queue(municipality), sync_queue(municipality), error_queue(municipality),
              async_queue(portal), error_queue(portal), syncreply_queue(portal), echo_queue,
              *reply_queues]
    now = datetime.now(OSLO).replace(minute=0, second=0, microsecond=0)
    with ExitStack() as stack:
        harness = mocks.start("gerica", seed_citizens=0)
        stack.callback(harness.stop)
        citizen = harness.seed_citizens(1)[0]
        sixty_visits(harness, citizen, now)
        store = Store.open(stack.enter_context(fresh_postgres_schema(postgres(), prefix="bench")))
        stack.callback(store.close)
        _expire_queues()
        declaring = AmqpTransport(broker())
        try:
            declaring.declare_queues(queues)
        finally:
            declaring.close()
        routes = (ServiceRoute("HSP", "9", service), ServiceRoute("PB", "12", second))
        context = Municipality(name="Eksempel kommune", her_id=municipality, vendor="gerica",
                               adapter=harness.adapter(), routes=routes, portal_her_id=portal)
        directory = Directory(context.adapter, record=StoreRoster(store, municipality))
        for route in routes:
            directory.service(route.vendor_code)
            directory.recipient(citizen, route.vendor_code)
        if read_window(store, context, citizen, now) != VISITS:
            raise RuntimeError(f"the EPJ did not report the citizen's {VISITS} visits")
        yield LatencyWorld(harness, store, context, service, citizen, reply_queues, echo_queue)


def _jobs(world: LatencyWorld, queue: str, body: bytes, rounds: int,
          expected_code: str | None, concurrency: int) -> list[Job | None]:
    """The job of each child process: ``concurrency`` requesters in all, spread evenly."""
    properties = {"subject": "DIALOG_INNBYGGER_TIMERESERVASJON",
                  "from_her_id": world.municipality.portal_her_id,
                  "to_her_id": world.municipality.her_id, "cpa_id": "bench-cpa"}
    share = -(-concurrency // PROCESSES)
    jobs: list[Job | None] = []
    for child in range(PROCESSES):
        requesters = max(0, min(share, concurrency - child * share))
        jobs.append(Job(queue, body, properties, requesters, rounds, expected_code, VISITS)
                    if requesters else None)
    return jobs


@contextmanager
def requesters_of(world: LatencyWorld) -> Iterator[Requesters]:
    """The requesters, connected and attached to their reply queues; ended afterwards."""
    share = -(-CONCURRENCY // PROCESSES)
    requesters = Requesters(broker(), [world.reply_queues[n:n + share]
                                       for n in range(0, CONCURRENCY, share)])
    try:
        requesters.start()
        yield requesters
    finally:
        requesters.close()


def _timed(requesters: Requesters, jobs: list[Job | None],
           responder: Callable[[threading.Event], None]) -> list[float]:
    """Run the responder in a thread while the requesters do ``jobs``; their latencies."""
    stop = threading.Event()
    thread = threading.Thread(target=responder, args=(stop,), daemon=True)
    thread.start()
    try:
        rounds = max(job.rounds for job in jobs if job is not None)
        return requesters.run(jobs, patience=120 + 2 * rounds)
    finally:
        stop.set()
        thread.join(30)


def echo_responder(queue: str, body: bytes) -> Callable[[threading.Event], None]:
    """The bare echo: one connection, receive, send ``body`` to reply-to, accept."""
    def serve(stop: threading.Event) -> None:
        transport = AmqpTransport(broker())
        try:
            while not stop.is_set():
                delivery = transport.receive(queue, timeout=0.2)
                if delivery is None:
                    continue
                asked = delivery.envelope
                transport.send(asked.reply_to or "", Envelope(
                    body=body, subject=asked.subject, from_her_id=asked.to_her_id,
                    to_her_id=asked.from_her_id,
                    correlation_id=asked.correlation_id or asked.message_id))
                delivery.accept()
        finally:
            transport.close()
    return serve


def engine_responder(world: LatencyWorld, answer_loops: int | None = None
                     ) -> Callable[[threading.Event], None]:
    """Every loop of the engine in threads, as the daemon runs them, until ``stop``."""
    def serve(stop: threading.Event) -> None:
        threads = [threading.Thread(target=loop, args=(stop,), name=name, daemon=True)
                   for name, loop in world.engine(answer_loops).loops().items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    return serve


def measure(*, quick: bool) -> Report:
    """One request alone to the echo and to the engine, then 50 at once to the echo (before
    and after), to the engine, and the parts of one answer; one broker, one run."""
    loops = EngineSettings().answer_loops
    skipped = missing_servers()
    if skipped is not None:
        return Report([], {}, 0, loops, skipped)
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    alone_rounds = QUICK_ALONE_ROUNDS if quick else ALONE_ROUNDS
    with quiet(), latency_world() as world, requesters_of(world) as requesters:
        request = world.request()
        planned = PlannedAppointments(world.store, world.municipality, lambda: datetime.now(OSLO))
        answer = encode(planned.answer(decode(request)).message)
        echo, engine = echo_responder(world.echo_queue, answer), engine_responder(world)
        sync = sync_queue(world.municipality.her_id)

        def timed(queue: str, code: str | None, serve: Callable[[threading.Event], None],
                  concurrency: int = CONCURRENCY, turns: int = rounds) -> list[float]:
            return _timed(requesters, _jobs(world, queue, request, turns, code, concurrency),
                          serve)

        alone = [Latencies(ECHO, timed(world.echo_queue, None, echo, 1, alone_rounds)),
                 Latencies(ENGINE, timed(sync, "01", engine, 1, alone_rounds))]
        echoed = timed(world.echo_queue, None, echo)
        answered = timed(sync, "01", engine)
        echoed += timed(world.echo_queue, None, echo)
        stages = stage_costs(world, request, 20 if quick else 200)
    return Report([*alone, Latencies(ECHO, echoed), Latencies(ENGINE, answered)], stages,
                  len(answer), loops)


ECHO = "bare echo (one connection, canned answer)"
ENGINE = "engine (from the store)"
HEADERS = ("Responder", "Concurrency", "Requests", "Answer", "p50", "p99", "p99 vs echo",
           "Target", "Result")
STAGE_HEADERS = ("Part of one answer", "Per request", "CPU", "SQL statements")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms" if seconds >= 0.01 else f"{seconds * 1e3:,.2f} ms"


def rows(report: Report) -> list[list[str]]:
    """Alone, then concurrent: the echo's row and the engine's, the last with its verdict;
    or why nothing was measured."""
    if report.skipped is not None:
        return [["HentPlanlagteTimer", f"skipped: {report.skipped}", *[""] * (len(HEADERS) - 2)]]
    size = f"{report.answer_bytes:,} B"
    made: list[list[str]] = []
    for number, (echo, engine) in enumerate(zip(report.runs[::2], report.runs[1::2],
                                                strict=True)):
        concurrency = "1" if number == 0 else str(CONCURRENCY)
        factor = engine.p99 / echo.p99
        verdict = ["", ""]
        if number:
            passed = factor <= TARGET_FACTOR and engine.p99 < TARGET_P99
            verdict = [f"<= {TARGET_FACTOR:g}x and < {TARGET_P99 * 1e3:g} ms",
                       "PASS" if passed else "FAIL"]
        made += [
            [echo.responder, concurrency, f"{len(echo.samples):,}", size, _ms(echo.p50),
             _ms(echo.p99), "1.00x", "", ""],
            [f"{engine.responder}, answer loops: {report.answer_loops}", concurrency,
             f"{len(engine.samples):,}", size, _ms(engine.p50), _ms(engine.p99),
             f"{factor:.2f}x", *verdict],
        ]
    return made


def stage_rows(report: Report) -> list[list[str]]:
    """Each part of one answer, one request at a time."""
    return [[stage, _ms(cost.seconds), _ms(cost.cpu_seconds), f"{cost.statements:.1f}"]
            for stage, cost in report.stages.items()]


def render(report: Report) -> str:
    """The section as ``python -m benchmarks`` prints it."""
    from benchmarks.__main__ import format_table  # noqa: PLC0415 - the tables' one format

    parts = [
        f"HentPlanlagteTimer: a citizen with {VISITS} visits, answered from the store over "
        f"RabbitMQ; {CONCURRENCY} requesters in {PROCESSES} other processes, one request in "
        "flight each; wall time from send to answer. Bare echo: receive, send a canned answer "
        "of the same size, accept, on the same broker before and after the engine (pooled). "
        f"Target: the engine's p99 within {TARGET_FACTOR:g}x of the echo's and under "
        f"{TARGET_P99 * 1e3:g} ms",
        format_table(HEADERS, rows(report)),
    ]
    if report.stages:
        parts += ["", "Where one answer's time goes: its parts in one thread, one request at a "
                  "time (the queue of 50 multiplies what one answer costs)",
                  format_table(STAGE_HEADERS, stage_rows(report))]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    """Print the section."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.planned_latency")
    parser.add_argument("--quick", action="store_true", help="a few requests each, for CI")
    args = parser.parse_args(argv)
    log.configure()  # the engine logs as the daemon does, into the void while measuring
    print(render(measure(quick=args.quick)))


if __name__ == "__main__":
    main()
