"""The portal's side of the HentPlanlagteTimer latency benchmark, in processes of their own.

Helsenorge's front ends ask many citizens' visits at once. Here requester
threads, spread over child processes (the portal is another machine; its
work must not share the responder's interpreter), each hold one request in
flight at a time: send, wait for the answer on the requester's own reply
queue (matched on ``correlation-id``), send the next. Each requester has its
own AMQP connection, as separate front ends would, made once when the child
starts and kept for every :class:`Job` the child is given. The first request
of each requester in a job is not timed (links to a new queue attach then);
the others are, from just before the send to the answer in hand, wall time.

After the clock stops, every answer is checked (it decodes, is the expected
code and carries the expected number of visits); a job with a missing or
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


@dataclass(frozen=True)
class Job:
    """What a child's requesters ask: where, with what, how often, what answers to expect."""

    queue: str
    body: bytes
    """The request; each send gets a fresh message-id."""
    properties: dict[str, str]
    """``subject``, ``from_her_id``, ``to_her_id`` and ``cpa_id`` of the request."""
    requesters: int
    """How many of the child's requesters ask (the first ones)."""
    rounds: int
    """Requests per requester, the untimed first one included."""
    expected_code: str | None
    """The answer's code to check (``None``: any bytes will do, for the echo)."""
    expected_visits: int


def _ask(job: Job, transport: AmqpTransport, reply_queue: str, start: threading.Event,
         latencies: list[float], bodies: list[bytes], failures: list[str]) -> None:
    try:
        start.wait(60)
        for turn in range(job.rounds):
            envelope = Envelope(
                body=job.body, subject=job.properties["subject"],
                from_her_id=job.properties["from_her_id"],
                to_her_id=job.properties["to_her_id"], cpa_id=job.properties["cpa_id"],
                message_id=str(uuid.uuid4()))
            began = time.perf_counter()
            answer = request(transport, job.queue, envelope, reply_queue=reply_queue,
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


def _check(job: Job, bodies: list[bytes]) -> str | None:
    """Why the answers are not what was expected, or ``None``."""
    if job.expected_code is None:
        return None
    for body in bodies:
        answer = decode(body)
        if answer.code != job.expected_code or \
                len(answer.appointments) != job.expected_visits:
            return (f"an answer was {answer.code} with {len(answer.appointments)} visits, "
                    f"not {job.expected_code} with {job.expected_visits}")
    return None


def _run(job: Job, transports: list[AmqpTransport], reply_queues: list[str]) -> object:
    """One job: its requesters ask together; their latencies, or what went wrong."""
    latencies: list[float] = []
    bodies: list[bytes] = []
    failures: list[str] = []
    start = threading.Event()
    threads = [threading.Thread(target=_ask, daemon=True, args=(
        job, transports[n], reply_queues[n], start, latencies, bodies, failures))
        for n in range(job.requesters)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()
    problem = failures[0] if failures else _check(job, bodies)
    return problem if problem else latencies


def _serve(url: str, reply_queues: list[str], pipe: Connection) -> None:
    """The child: connect every requester, say ready, run each job it is given."""
    transports = [AmqpTransport(url) for _ in reply_queues]
    try:
        for transport, queue in zip(transports, reply_queues, strict=True):
            transport.receive(queue, timeout=0)  # connected and attached before any clock
        pipe.send(READY)
        while (job := pipe.recv()) is not None:
            pipe.send(_run(job, transports, reply_queues))
    except Exception as error:  # reported to the parent, which fails the run
        pipe.send(f"{type(error).__name__}: {error}")
    finally:
        for transport in transports:
            transport.close()


class Requesters:
    """Child processes of requesters, each with its own reply queues; see the module doc."""

    def __init__(self, url: str, reply_queues: list[list[str]]) -> None:
        context = multiprocessing.get_context("spawn")
        self.sizes = [len(queues) for queues in reply_queues]
        self._pipes: list[Connection] = []
        self._processes = []
        for number, queues in enumerate(reply_queues):
            parent, child = context.Pipe()
            self._pipes.append(parent)
            self._processes.append(context.Process(
                target=_serve, args=(url, queues, child), name=f"requesters-{number}",
                daemon=True))

    def start(self) -> None:
        """Start every child and wait until all their requesters are attached."""
        for process in self._processes:
            process.start()
        for pipe in self._pipes:
            answer = self._receive(pipe, 120)
            if answer != READY:
                raise RuntimeError(f"the requesters failed: {answer}")

    def run(self, jobs: list[Job | None], patience: float) -> list[float]:
        """Give each child its job (``None``: it sits this one out); every timed latency."""
        for pipe, job in zip(self._pipes, jobs, strict=True):
            if job is not None:
                pipe.send(job)
        latencies: list[float] = []
        for pipe, job in zip(self._pipes, jobs, strict=True):
            if job is None:
                continue
            answer = self._receive(pipe, patience)
            if not isinstance(answer, list):
                raise RuntimeError(f"the requesters failed: {answer}")
            latencies += answer
        return latencies

    def close(self) -> None:
        """Let the children close their connections and end; stop those that do not."""
        for pipe, process in zip(self._pipes, self._processes, strict=True):
            if process.is_alive():
                pipe.send(None)
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join(10)

    @staticmethod
    def _receive(pipe: Connection, timeout: float) -> object:
        if not pipe.poll(timeout):
            raise RuntimeError("the requesters did not answer in time")
        return pipe.recv()
