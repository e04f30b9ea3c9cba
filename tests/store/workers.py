"""Work done in other processes by the concurrency tests (importable, for ``spawn``).

Each worker waits at a shared barrier so that all start at the same moment,
then reports its result on a queue.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from digidialog.store import Store
from digidialog.transport.embedded import EmbeddedTransport

SPAWN = multiprocessing.get_context("spawn")


def drain_queue(url: str, owner: str, queue_name: str) -> list[int]:
    """Claim and complete items until none is claimable; the ids this owner completed."""
    store = Store.open(url, migrate=False)
    queue = store.work_queue(queue_name)
    done: list[int] = []
    try:
        while items := queue.claim(owner, limit=3, lease_seconds=120):
            for item in items:
                with store.transaction() as conn:
                    if queue.complete(conn, item.id, owner):
                        done.append(item.id)
    finally:
        store.close()
    return done


def receive_all(url: str, queue: str) -> list[bytes]:
    """Receive and accept until the queue stays empty for a moment; the bodies received."""
    transport = EmbeddedTransport.open(url, lease_seconds=120)
    bodies: list[bytes] = []
    try:
        while (delivery := transport.receive(queue, timeout=0.5)) is not None:
            bodies.append(delivery.envelope.body)
            delivery.accept()
    finally:
        transport.close()
    return bodies


def open_store(url: str) -> str | None:
    """Open (and so migrate) a store; the revision it found afterwards."""
    with Store.open(url) as store:
        return store.revision()


def _run(barrier: Any, results: Any, index: int, target: Callable[..., Any],
         args: Sequence[Any]) -> None:
    barrier.wait(timeout=60)
    try:
        results.put((index, target(*args)))
    except BaseException as error:
        results.put((index, error))
        raise


def in_processes(target: Callable[..., Any], arguments: Sequence[Sequence[Any]]) -> list[Any]:
    """Run ``target(*args)`` for each args in its own process, all released at once."""
    barrier = SPAWN.Barrier(len(arguments))
    results = SPAWN.Queue()
    processes = [SPAWN.Process(target=_run, args=(barrier, results, index, target, args))
                 for index, args in enumerate(arguments)]
    for process in processes:
        process.start()
    collected = dict(results.get(timeout=180) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    for value in collected.values():
        if isinstance(value, BaseException):
            raise value
    return [collected[index] for index in range(len(arguments))]
