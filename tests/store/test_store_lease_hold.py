"""A job's lease is checked as its turn in a batch comes (issue 11: two daemons, a slow EPJ).

A worker claims a batch under one lease and works it job by job; with a slow
EPJ the last jobs wait longer than the lease. Another daemon may then claim
them. Before this check the first worker still did them when their turn came:
every EPJ call and portal send of those jobs happened twice.
"""

from __future__ import annotations

from datetime import timedelta

from digidialog.store import DONE, Store, WorkItem
from digidialog.sync.attempt import attempt
from digidialog.sync.retry import RetryPolicy
from tests.store.conftest import T0, ManualClock
from tests.store.test_store_workqueue import add


def test_an_unexpired_lease_is_held_without_a_write(store: Store, clock: ManualClock) -> None:
    """More than half the lease left: held as it is; less: renewed from now."""
    add(store, store.outbox, "job")
    [item] = store.outbox.claim("a", lease_seconds=10)
    clock.advance(4)
    assert store.outbox.hold(item, "a", lease_seconds=10)
    unchanged = store.outbox.get(item.id)
    assert unchanged is not None and unchanged.lease_until == T0 + timedelta(seconds=10)
    clock.advance(3)
    assert store.outbox.hold(item, "a", lease_seconds=10)
    renewed = store.outbox.get(item.id)
    assert renewed is not None and renewed.lease_until == T0 + timedelta(seconds=17)


def test_a_lease_taken_over_is_not_held(store: Store, clock: ManualClock) -> None:
    """Expired and claimed by another worker, or done by it: the first worker lets go."""
    add(store, store.outbox, "first")
    add(store, store.outbox, "second")
    first, second = store.outbox.claim("a", lease_seconds=10)
    clock.advance(11)
    [taken] = store.outbox.claim("b", limit=1, lease_seconds=10)
    assert taken.id == first.id
    assert not store.outbox.hold(first, "a", lease_seconds=10)
    with store.transaction() as conn:
        assert store.outbox.complete(conn, taken.id, "b")
    assert not store.outbox.hold(first, "a", lease_seconds=10)
    # Expired but taken by nobody: still the first worker's, renewed.
    assert store.outbox.hold(second, "a", lease_seconds=10)


def test_a_batch_slower_than_its_lease_is_not_done_twice(store: Store,
                                                         clock: ManualClock) -> None:
    """Worker a claims two jobs; the first takes longer than the lease, and worker b takes
    the second meanwhile and does it. When its turn comes, a leaves it: done once."""
    add(store, store.outbox, "slow")
    add(store, store.outbox, "behind")
    done: list[tuple[str, str]] = []

    def work(owner: str, seconds: float = 0.0) -> object:
        def run(item: WorkItem) -> None:
            clock.advance(seconds)
            done.append((owner, item.key))
            with store.transaction() as conn:
                store.outbox.complete(conn, item.id, owner)
        return run

    slow, behind = store.outbox.claim("a", lease_seconds=10)
    policy = RetryPolicy()
    assert attempt(store.outbox, slow, "a", policy, work("a", seconds=12),  # type: ignore[arg-type]
                   lease_seconds=10)
    [taken] = store.outbox.claim("b", limit=1, lease_seconds=10)
    assert taken.id == behind.id
    assert attempt(store.outbox, taken, "b", policy, work("b"),  # type: ignore[arg-type]
                   lease_seconds=10)
    assert not attempt(store.outbox, behind, "a", policy, work("a"),  # type: ignore[arg-type]
                       lease_seconds=10)
    assert done == [("a", "slow"), ("b", "behind")]
    finished = store.outbox.get(behind.id)
    assert finished is not None and finished.state == DONE
