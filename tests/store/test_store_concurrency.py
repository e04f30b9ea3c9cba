"""Two workers never get the same item: threads on one store, processes on one database."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from digidialog.store import DONE, Store
from digidialog.store.schema import inbox
from tests.store.workers import drain_queue, in_processes

ITEMS = 120


def fill(store: Store, name: str = "inbox", count: int = ITEMS) -> set[int]:
    """Add ``count`` items; their ids."""
    queue = store.work_queue(name)
    ids = set()
    with store.transaction() as conn:
        for number in range(count):
            new_id = queue.add(conn, municipality="A", kind="dialog", key=f"k{number}",
                               payload=b"x")
            assert new_id is not None
            ids.add(new_id)
    return ids


def test_threads_claim_each_item_once(live_store: Store) -> None:
    """Four threads sharing one store (PostgreSQL: four connections) split the work."""
    ids = fill(live_store)
    start = threading.Barrier(4)

    def drain(owner: str) -> list[int]:
        start.wait()
        done = []
        while items := live_store.inbox.claim(owner, limit=2):
            for item in items:
                with live_store.transaction() as conn:
                    assert live_store.inbox.complete(conn, item.id, owner)
                done.append(item.id)
        return done

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(drain, [f"t{n}" for n in range(4)]))
    everything = Counter(item for result in results for item in result)
    assert set(everything) == ids
    assert max(everything.values()) == 1
    assert live_store.inbox.depth() == {"pending": 0, "leased": 0, "done": ITEMS, "dead": 0}


def test_processes_claim_each_item_once(live_store: Store, store_url: str) -> None:
    """Two daemon processes on one database (SQLite file or PostgreSQL) split the work."""
    ids = fill(live_store, "outbox")
    first, second = in_processes(drain_queue, [(store_url, "p1", "outbox"),
                                               (store_url, "p2", "outbox")])
    assert not set(first) & set(second)
    assert set(first) | set(second) == ids
    assert len(first) + len(second) == ITEMS
    assert live_store.outbox.depth()[DONE] == ITEMS


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.services)])
def test_postgresql_skips_rows_another_transaction_locks(live_store: Store) -> None:
    """While one connection holds rows locked, a claim on another takes the others at once."""
    ids = sorted(fill(live_store, count=4))
    with live_store.transaction() as holder:
        holder.execute(select(inbox.c.id).where(inbox.c.id.in_(ids[:2])).with_for_update())
        with ThreadPoolExecutor(1) as pool:  # another thread, so another connection
            claimed = pool.submit(live_store.inbox.claim, "w2", limit=10).result(timeout=10)
    assert [item.id for item in claimed] == ids[2:]
    assert [item.id for item in live_store.inbox.claim("w3")] == ids[:2]
