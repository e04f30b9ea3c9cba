"""Dead letters: parked work listed, shown, retried one by one or all at once."""

from __future__ import annotations

from digidialog.store import DEAD, PENDING, Store
from tests.store.conftest import T0, ManualClock


def park(store: Store, queue_name: str, key: str, municipality: str, reason: str) -> int:
    """Add an item, claim it, fail it a few times and park it; the item id."""
    queue = store.work_queue(queue_name)
    with store.transaction() as conn:
        item_id = queue.add(conn, municipality=municipality, kind="dialog", key=key,
                            payload=b"x")
    assert item_id is not None
    for _ in range(2):
        [item] = queue.claim("w1", kinds=["dialog"], municipality=municipality, limit=1)
        queue.retry_later(item.id, "w1", error="busy", delay=0)
    [item] = queue.claim("w1", municipality=municipality, limit=1)
    assert queue.park(item.id, "w1", reason=reason)
    return item_id


def test_list_get_and_count(store: Store, clock: ManualClock) -> None:
    """Dead letters name their queue, item, municipality, kind, reason and parking time."""
    inbox_item = park(store, "inbox", "a", "A", "T01: not XML")
    clock.advance(5)
    outbox_item = park(store, "outbox", "b", "B", "AppRec E10")
    letters = store.dead_letters.list()
    assert [(d.source, d.item_id, d.municipality, d.kind, d.reason) for d in letters] == [
        ("inbox", inbox_item, "A", "dialog", "T01: not XML"),
        ("outbox", outbox_item, "B", "dialog", "AppRec E10"),
    ]
    assert [d.parked_at for d in letters] == [T0, T0.replace(second=5)]
    assert [d.id for d in store.dead_letters.list("B")] == [letters[1].id]
    assert store.dead_letters.get(letters[0].id) == letters[0]
    assert store.dead_letters.get(999) is None
    assert (store.dead_letters.count(), store.dead_letters.count("A")) == (2, 1)


def test_retry_puts_the_item_back_in_line_once(store: Store, clock: ManualClock) -> None:
    """retry() resets attempts, makes the item due now and marks the letter retried."""
    item_id = park(store, "outbox", "a", "A", "vendor refused")
    [letter] = store.dead_letters.list()
    clock.advance(60)
    assert store.dead_letters.retry(letter.id) is True
    assert store.dead_letters.retry(letter.id) is False
    assert store.dead_letters.retry(424242) is False
    item = store.outbox.get(item_id)
    assert item is not None
    assert (item.state, item.attempts, item.not_before) == (PENDING, 0, clock.now)
    assert store.dead_letters.count() == 0
    assert store.dead_letters.list() == []
    [retried] = store.dead_letters.list(include_retried=True)
    assert retried.retried_at == clock.now
    [claimed] = store.outbox.claim("w2")
    assert claimed.id == item_id


def test_parked_again_after_a_retry_gets_a_new_letter(store: Store) -> None:
    """An item that fails again after its retry is a new dead letter; the old stays retried."""
    item_id = park(store, "inbox", "a", "A", "first")
    store.dead_letters.retry(store.dead_letters.list()[0].id)
    [item] = store.inbox.claim("w1")
    store.inbox.park(item.id, "w1", reason="second")
    letters = store.dead_letters.list(include_retried=True)
    assert [(d.item_id, d.reason, d.retried_at is None) for d in letters] == [
        (item_id, "first", False), (item_id, "second", True),
    ]
    assert store.dead_letters.count() == 1


def test_retry_all_by_municipality(store: Store) -> None:
    """retry_all() takes every open letter (of one municipality) and says how many."""
    park(store, "inbox", "a", "A", "r")
    park(store, "outbox", "b", "A", "r")
    park(store, "inbox", "c", "B", "r")
    assert store.dead_letters.retry_all("A") == 2
    assert store.dead_letters.count() == 1
    assert store.inbox.depth("A")[PENDING] == 1 and store.outbox.depth("A")[PENDING] == 1
    assert store.inbox.depth("B")[DEAD] == 1
    assert store.dead_letters.retry_all() == 1
    assert store.dead_letters.retry_all() == 0
    assert store.inbox.depth()[DEAD] == 0
