"""Work queues: idempotent adds, leased claims, completion, retries with backoff, parking."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from digidialog.errors import FatalError
from digidialog.store import DEAD, DONE, PENDING, Store, WorkQueue
from tests.store.conftest import T0, ManualClock


def add(store: Store, queue: WorkQueue, key: str, *, municipality: str = "1000001",
        kind: str = "dialog", **options: object) -> int | None:
    """Add one item in a transaction of its own."""
    with store.transaction() as conn:
        return queue.add(conn, municipality=municipality, kind=kind, key=key,
                         payload=f"body {key}".encode(), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["inbox", "outbox"])
def test_same_key_twice_gives_one_row(store: Store, name: str) -> None:
    """Adding a key again adds nothing and says so with None; the first payload is kept."""
    queue = store.work_queue(name)
    first = add(store, queue, "msg-1", meta={"process": "DIALOG_INNBYGGER_EKONTAKT"})
    with store.transaction() as conn:
        again = queue.add(conn, municipality="1000001", kind="dialog", key="msg-1",
                          payload=b"other")
    assert first is not None
    assert again is None
    item = queue.get_by_key("msg-1")
    assert item is not None
    assert item.id == first
    assert item.payload == b"body msg-1"
    assert item.meta == {"process": "DIALOG_INNBYGGER_EKONTAKT"}
    assert (item.state, item.attempts, item.created_at, item.last_error) == (PENDING, 0, T0, None)
    assert queue.depth()[PENDING] == 1


def test_inbox_and_outbox_are_separate(store: Store) -> None:
    """One key may exist once in each queue."""
    assert add(store, store.inbox, "k") is not None
    assert add(store, store.outbox, "k") is not None
    assert store.inbox.depth()[PENDING] == store.outbox.depth()[PENDING] == 1


def test_a_failed_transaction_adds_nothing(store: Store) -> None:
    """An add rolled back with the rest of its transaction leaves no row."""
    def add_then_fail() -> None:
        with store.transaction() as conn:
            store.inbox.add(conn, municipality="1", kind="dialog", key="lost", payload=b"x")
            raise RuntimeError("the caller failed after adding")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert store.inbox.get_by_key("lost") is None


def test_claim_leases_oldest_due_items_with_filters(store: Store, clock: ManualClock) -> None:
    """Claims take due, unleased items oldest first, of the municipality and kinds asked."""
    ids = [add(store, store.inbox, f"m{i}", municipality="A" if i % 2 else "B",
               kind="dialog" if i < 4 else "apprec") for i in range(6)]
    later = add(store, store.inbox, "later", not_before=T0 + timedelta(minutes=5))

    claimed = store.inbox.claim("w1", municipality="A", kinds=["dialog"], lease_seconds=30)
    assert [item.id for item in claimed] == [ids[1], ids[3]]
    assert all(item.leased_by == "w1" and item.lease_until == T0 + timedelta(seconds=30)
               for item in claimed)
    assert [item.id for item in store.inbox.claim("w2", limit=2)] == [ids[0], ids[2]]
    assert store.inbox.claim("w3", kinds=[]) == []
    rest = store.inbox.claim("w3")
    assert [item.id for item in rest] == [ids[4], ids[5]]
    assert later not in [item.id for item in rest]

    clock.advance(301)  # "later" is due now; every lease above ran out long ago
    again = store.inbox.claim("w4", limit=100)
    assert sorted(item.id for item in again) == sorted([*ids, later])


def test_complete_only_by_the_lease_holder(store: Store) -> None:
    """complete() is True for the holder once; False for anyone else or a second time."""
    item_id = add(store, store.inbox, "a")
    [item] = store.inbox.claim("w1")
    with store.transaction() as conn:
        assert store.inbox.complete(conn, item_id or 0, "intruder") is False
        assert store.inbox.complete(conn, item.id, "w1") is True
        assert store.inbox.complete(conn, item.id, "w1") is False
    done = store.inbox.get(item.id)
    assert done is not None
    assert (done.state, done.leased_by, done.lease_until) == (DONE, None, None)
    assert store.inbox.claim("w2") == []
    assert store.inbox.depth() == {"pending": 0, "leased": 0, "done": 1, "dead": 0}


def test_expired_lease_makes_the_item_claimable_again(store: Store, clock: ManualClock) -> None:
    """A worker that dies loses its items when the lease runs out; then it cannot complete."""
    add(store, store.outbox, "a")
    [first] = store.outbox.claim("dead-worker", lease_seconds=60)
    clock.advance(59)
    assert store.outbox.claim("w2") == []
    assert store.outbox.depth()["leased"] == 1
    clock.advance(1)
    [second] = store.outbox.claim("w2")
    assert second.id == first.id and second.leased_by == "w2"
    with store.transaction() as conn:
        assert store.outbox.complete(conn, first.id, "dead-worker") is False
        assert store.outbox.complete(conn, first.id, "w2") is True


def test_expired_lease_on_the_real_clock(live_store: Store) -> None:
    """The same with real time: a 0.3 s lease lapses and another owner gets the item."""
    add(live_store, live_store.inbox, "a")
    assert len(live_store.inbox.claim("w1", lease_seconds=0.3)) == 1
    assert live_store.inbox.claim("w2") == []
    time.sleep(0.4)
    assert [item.leased_by for item in live_store.inbox.claim("w2")] == ["w2"]


def test_a_late_complete_still_counts_when_nobody_took_over(store: Store,
                                                            clock: ManualClock) -> None:
    """An expired lease nobody claimed since is still the holder's to complete."""
    add(store, store.inbox, "a")
    [item] = store.inbox.claim("w1", lease_seconds=1)
    clock.advance(10)
    with store.transaction() as conn:
        assert store.inbox.complete(conn, item.id, "w1") is True


def test_retry_later_sets_the_backoff_fields(store: Store, clock: ManualClock) -> None:
    """retry_later counts the attempt, keeps the error, clears the lease, delays the item."""
    add(store, store.outbox, "a")
    [item] = store.outbox.claim("w1")
    assert store.outbox.retry_later(item.id, "someone-else", error="x", delay=5) is False
    assert store.outbox.retry_later(item.id, "w1", error="vendor busy", delay=30) is True
    waiting = store.outbox.get(item.id)
    assert waiting is not None
    assert (waiting.state, waiting.attempts, waiting.last_error) == (PENDING, 1, "vendor busy")
    assert (waiting.leased_by, waiting.lease_until) == (None, None)
    assert waiting.not_before == T0 + timedelta(seconds=30)
    assert store.outbox.claim("w1") == []
    clock.advance(30)
    [again] = store.outbox.claim("w1")
    assert store.outbox.retry_later(again.id, "w1", error="still busy", delay=60) is True
    twice = store.outbox.get(item.id)
    assert twice is not None and twice.attempts == 2 and twice.last_error == "still busy"
    assert twice.not_before == T0 + timedelta(seconds=90)


def test_long_errors_are_cut(store: Store) -> None:
    """An error text is kept to a bounded length."""
    add(store, store.outbox, "a")
    [item] = store.outbox.claim("w1")
    store.outbox.retry_later(item.id, "w1", error="e" * 10_000, delay=0)
    stored = store.outbox.get(item.id)
    assert stored is not None and stored.last_error is not None
    assert len(stored.last_error) == 2000


def test_park_by_holder_or_operator(store: Store) -> None:
    """park() needs the lease when an owner is named; with None it parks any live item once."""
    first, second = add(store, store.inbox, "a"), add(store, store.inbox, "b")
    claimed = store.inbox.claim("w1", limit=1)
    assert [item.id for item in claimed] == [first]
    assert store.inbox.park(first or 0, "w2", reason="not mine") is False
    assert store.inbox.park(first or 0, "w1", reason="T02: invalid") is True
    assert store.inbox.park(second or 0, None, reason="operator") is True
    assert store.inbox.park(second or 0, None, reason="twice") is False
    parked = store.inbox.get(first or 0)
    assert parked is not None
    assert (parked.state, parked.leased_by, parked.last_error) == (DEAD, None, "T02: invalid")
    assert store.inbox.claim("w1") == []
    assert store.dead_letters.count() == 2


def test_done_work_can_be_parked_later(store: Store) -> None:
    """A negative receipt for a message already sent parks its (done) outbox item."""
    add(store, store.outbox, "sent")
    [item] = store.outbox.claim("w1")
    with store.transaction() as conn:
        store.outbox.complete(conn, item.id, "w1")
        assert store.outbox.park(item.id, None, reason="AppRec E10", conn=conn) is True
    stored = store.outbox.get(item.id)
    assert stored is not None and stored.state == DEAD


def test_release_leases_hands_back_only_the_owners_items(store: Store) -> None:
    """Graceful shutdown: release_leases frees what the owner holds, nothing else."""
    for key in "abcd":
        add(store, store.inbox, key)
    mine = store.inbox.claim("w1", limit=3)
    [theirs] = store.inbox.claim("w2")
    with store.transaction() as conn:
        store.inbox.complete(conn, mine[0].id, "w1")
    assert store.inbox.release_leases("w1") == 2
    assert store.inbox.release_leases("w1") == 0
    assert store.inbox.depth() == {"pending": 2, "leased": 1, "done": 1, "dead": 0}
    assert sorted(i.id for i in store.inbox.claim("w3")) == sorted(i.id for i in mine[1:])
    held = store.inbox.get(theirs.id)
    assert held is not None and held.leased_by == "w2"


def test_depth_per_municipality(store: Store) -> None:
    """depth() counts per state, for one municipality or all."""
    add(store, store.inbox, "a", municipality="A")
    add(store, store.inbox, "b", municipality="B")
    add(store, store.inbox, "c", municipality="B")
    store.inbox.claim("w1", municipality="B", limit=1)
    assert store.inbox.depth("A") == {"pending": 1, "leased": 0, "done": 0, "dead": 0}
    assert store.inbox.depth("B") == {"pending": 1, "leased": 1, "done": 0, "dead": 0}
    assert store.inbox.depth() == {"pending": 2, "leased": 1, "done": 0, "dead": 0}


def test_unknown_ids_and_keys(store: Store) -> None:
    """Looking up what does not exist answers None; unknown queues are refused."""
    assert store.inbox.get(12345) is None
    assert store.inbox.get_by_key("nope") is None
    with pytest.raises(ValueError, match="no work queue"):
        store.work_queue("sidebox")


def test_naive_datetimes_are_refused(store: Store) -> None:
    """A datetime without a time zone never reaches the database."""
    with pytest.raises(FatalError, match="timezone-aware"):
        add(store, store.inbox, "a", not_before=T0.replace(tzinfo=None))
