"""The portal's side of the HentPlanlagteTimer latency benchmark, in processes of their own.

Helsenorge's front ends ask many citizens' visits at once. Here ``requesters``
threads, spread over ``processes`` child processes (the portal is another
machine; its work must not share the responder's interpreter), each hold one
request in flight at a time: send, wait for the answer on the requester's own
reply queue (matched on ``correlation-id``), send the next. Each thread has
its own AMQP connection, as separate front ends would. The first request of
each thread is not timed (connections and links warm up); the others are,
from just before the send to the answer in hand, wall time.

After the clock stops, every answer is checked (it decodes, is the expected
code and carries the expected number of visits); a run with a missing or
wrong answer is an error, not a latency.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection

from digidialog.helsenorge import decode
from digidialog.transport import Envelope, request
from digidialog.transport.amqp import AmqpTransport

READY = "ready"
TIMEOUT = 8.0
"""Seconds a requester waits for an answer, as the portal does."""
STAGGER = 0.04
"""Seconds between the requesters' first (untimed) requests."""


@dataclass(frozen=True)
class Plan:
    """What a child process asks: where, with what, how often, and what answers to expect."""

    url: str
    queue: str
    reply_queues: list[str]
    """One per requester thread of this child."""
    body: bytes
    """The request; each send gets a fresh message-id."""
    properties: dict[str, str]
    """``subject``, ``from_her_id``, ``to_her_id`` and ``cpa_id`` of the request."""
    rounds: int
    """Requests per thread, the untimed first one included."""
    expected_code: str | None
    """The answer's code to check (``None``: any bytes will do, for the echo)."""
    expected_visits: int


def _requester(plan: Plan, number: int, start: threading.Event,
               attached: threading.Barrier, latencies: list[float], bodies: list[bytes],
               failures: list[str]) -> None:
    reply_queue = plan.reply_queues[number]
    transport = AmqpTransport(plan.url)
    try:
        transport.receive(reply_queue, timeout=0)  # connected and attached before the clock
        attached.wait(60)
        start.wait(60)
        # The untimed first requests are spread over a second: RabbitMQ 3.10's AMQP 1.0
        # plugin loses sessions when dozens of connections attach links at the same instant.
        time.sleep(number * STAGGER)
        for turn in range(plan.rounds):
            envelope = Envelope(
                body=plan.body, subject=plan.properties["subject"],
                from_her_id=plan.properties["from_her_id"],
                to_her_id=plan.properties["to_her_id"], cpa_id=plan.properties["cpa_id"],
                message_id=str(uuid.uuid4()))
            began = time.perf_counter()
            answer = request(transport, plan.queue, envelope, reply_queue=reply_queue,
                             timeout=TIMEOUT)
            took = time.perf_counter() - began
            if answer is None:
                failures.append(f"no answer within {TIMEOUT:g} s")
                return
            if turn:  # the first warms up
                latencies.append(took)
                bodies.append(answer.body)
    except Exception as error:  # reported to the parent, which fails the run
        failures.append(f"{type(error).__name__}: {error}")
    finally:
        transport.close()


def _check(plan: Plan, bodies: list[bytes]) -> str | None:
    """Why the answers are not what was expected, or ``None``."""
    if plan.expected_code is None:
        return None
    for body in bodies:
        answer = decode(body)
        if answer.code != plan.expected_code or \
                len(answer.appointments) != plan.expected_visits:
            return (f"an answer was {answer.code} with {len(answer.appointments)} visits, "
                    f"not {plan.expected_code} with {plan.expected_visits}")
    return None


def _run(plan: Plan, pipe: Connection) -> None:
    """The child: attach every requester, say ready, wait for go, ask, report."""
    latencies: list[float] = []
    bodies: list[bytes] = []
    failures: list[str] = []
    start = threading.Event()
    attached = threading.Barrier(len(plan.reply_queues) + 1)
    threads = [threading.Thread(target=_requester, daemon=True, args=(
        plan, number, start, attached, latencies, bodies, failures))
        for number in range(len(plan.reply_queues))]
    for thread in threads:
        thread.start()
    try:
        attached.wait(60)
    except threading.BrokenBarrierError:
        pipe.send(f"requesters did not attach: {failures[:1]}")
        return
    pipe.send(READY)
    pipe.recv()  # go
    start.set()
    for thread in threads:
        thread.join()
    problem = failures[0] if failures else _check(plan, bodies)
    pipe.send(problem if problem else latencies)


class Requesters:
    """Child processes asking concurrently; see the module docstring."""

    def __init__(self, plans: list[Plan]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes = []
        for number, plan in enumerate(plans):
            parent, child = context.Pipe()
            self._pipes.append(parent)
            self._processes.append(context.Process(
                target=_run, args=(plan, child), name=f"requesters-{number}", daemon=True))

    def start(self) -> None:
        """Start every child and wait until all their requesters are attached."""
        for process in self._processes:
            process.start()
        for pipe in self._pipes:
            answer = self._receive(pipe, 120)
            if answer != READY:
                raise RuntimeError(f"the requesters failed: {answer}")

    def run(self, patience: float) -> list[float]:
        """Let every requester go; the latencies of all timed requests, in seconds."""
        for pipe in self._pipes:
            pipe.send("go")
        latencies: list[float] = []
        for pipe in self._pipes:
            answer = self._receive(pipe, patience)
            if not isinstance(answer, list):
                raise RuntimeError(f"the requesters failed: {answer}")
            latencies += answer
        return latencies

    def close(self) -> None:
        """Stop the children that still run."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
            process.join(10)

    @staticmethod
    def _receive(pipe: Connection, timeout: float) -> object:
        if not pipe.poll(timeout):
            raise RuntimeError("the requesters did not answer in time")
        return pipe.recv()
