"""Retries brought forward when what they failed on answers again (the EPJ back after an
outage): only that municipality's waiting retries of the given kinds, nothing else."""

from __future__ import annotations

from datetime import timedelta

from digidialog.store import Store
from tests.store.conftest import T0, ManualClock
from tests.store.test_store_workqueue import add


def test_only_waiting_retries_of_the_kinds_and_municipality_are_hastened(
        store: Store, clock: ManualClock) -> None:
    """An EPJ job backing off is due at once; a portal job backing off, another
    municipality's EPJ job and an EPJ job due later that never failed keep their time."""
    add(store, store.outbox, "deliver", kind="epj.deliver")
    add(store, store.outbox, "send", kind="portal.send")
    add(store, store.outbox, "elsewhere", kind="epj.deliver", municipality="1000002")
    add(store, store.outbox, "cancel", kind="epj.cancel")
    for item in store.outbox.claim("w", limit=10, lease_seconds=30):
        assert store.outbox.retry_later(item.id, "w", error="down", delay=25)
    with store.transaction() as conn:
        store.outbox.add(conn, municipality="1000001", kind="epj.read-window", key="later",
                         payload=b"", not_before=T0 + timedelta(seconds=25))
    clock.advance(1)

    assert store.outbox.hasten("1000001", "epj.") == 2

    due = {item.key for item in store.outbox.claim("w", limit=10, lease_seconds=30)}
    assert due == {"deliver", "cancel"}
