"""Awaited receipts, checkpoints, citizens' digital status and seen vendor events."""

from __future__ import annotations

from datetime import timedelta

from digidialog.store import Store
from tests.store.conftest import T0, ManualClock

M = timedelta(minutes=1)


def expect(store: Store, msg_id: str, municipality: str = "A", sent_minutes: int = 0) -> None:
    """Await the receipt of a message sent at T0 + minutes."""
    with store.transaction() as conn:
        store.receipts.expect(conn, msg_id=msg_id, municipality=municipality, outbox_item=7,
                              citizen_id="cit-1", process="DIALOG_INNBYGGER_EKONTAKT",
                              sent_at=T0 + sent_minutes * M)


def test_a_receipt_resolves_once(store: Store) -> None:
    """The first AppRec resolves; a duplicate or an unknown MsgId finds nothing awaited."""
    expect(store, "m1")
    expect(store, "m1", sent_minutes=9)  # sent again: still the first record
    with store.transaction() as conn:
        resolved = store.receipts.resolve(conn, "m1", status="2", error_codes=["E35"],
                                          at=T0 + M)
        duplicate = store.receipts.resolve(conn, "m1", status="1", error_codes=[], at=T0 + M)
        unknown = store.receipts.resolve(conn, "nope", status="1", error_codes=[], at=T0)
    assert resolved is not None
    assert (resolved.msg_id, resolved.municipality, resolved.outbox_item, resolved.citizen_id,
            resolved.process, resolved.sent_at) == ("m1", "A", 7, "cit-1",
                                                    "DIALOG_INNBYGGER_EKONTAKT", T0)
    assert (resolved.status, resolved.error_codes, resolved.resolved_at) == ("2", ("E35",),
                                                                             T0 + M)
    assert duplicate is None and unknown is None
    assert store.receipts.get("m1") == resolved
    assert store.receipts.pending() == []


def test_pending_receipts_by_age_and_municipality(store: Store) -> None:
    """pending() lists what is still awaited, oldest first, filtered."""
    expect(store, "old", "A", 0)
    expect(store, "newer", "B", 10)
    expect(store, "newest", "A", 20)
    expect(store, "done", "A", 1)
    with store.transaction() as conn:
        store.receipts.resolve(conn, "done", status="1", error_codes=[], at=T0 + 2 * M)
    assert [r.msg_id for r in store.receipts.pending()] == ["old", "newer", "newest"]
    assert [r.msg_id for r in store.receipts.pending("A")] == ["old", "newest"]
    assert [r.msg_id for r in store.receipts.pending(older_than=T0 + 15 * M)] == ["old", "newer"]
    assert store.receipts.pending()[0].status is None


def test_checkpoints_put_get_all(store: Store, clock: ManualClock) -> None:
    """put() inserts or replaces and records when; all() lists every checkpoint."""
    assert store.checkpoints.get("A", "feed") is None
    with store.transaction() as conn:
        store.checkpoints.put(conn, "A", "feed", "cursor-1")
        store.checkpoints.put(conn, "B", "feed", "x")
    clock.advance(60)
    with store.transaction() as conn:
        store.checkpoints.put(conn, "A", "feed", "cursor-2")
        store.checkpoints.put(conn, "A", "nightly", None)
    assert store.checkpoints.get("A", "feed") == "cursor-2"
    assert store.checkpoints.get("A", "nightly") is None
    assert [(c.municipality, c.name, c.value, c.updated_at) for c in store.checkpoints.all()] == [
        ("A", "feed", "cursor-2", T0 + M), ("A", "nightly", None, T0 + M), ("B", "feed", "x", T0),
    ]


def test_citizens_newest_fact_wins(store: Store) -> None:
    """Unknown citizens are not inactive; an older status change never undoes a newer one."""
    assert store.citizens.is_inactive("A", "cit-1") is False
    with store.transaction() as conn:
        store.citizens.set_active(conn, "A", "cit-1", False, T0 + 2 * M, "apprec:E35")
    assert store.citizens.is_inactive("A", "cit-1") is True
    assert store.citizens.is_inactive("B", "cit-1") is False
    with store.transaction() as conn:  # an SDAB notice older than the E35 arrives late
        store.citizens.set_active(conn, "A", "cit-1", True, T0 + M, "sdab")
    assert store.citizens.is_inactive("A", "cit-1") is True
    with store.transaction() as conn:
        store.citizens.set_active(conn, "A", "cit-1", True, T0 + 3 * M, "sdab")
    status = store.citizens.status("A", "cit-1")
    assert status is not None
    assert (status.active, status.changed_at, status.source) == (True, T0 + 3 * M, "sdab")
    assert store.citizens.is_inactive("A", "cit-1") is False


def test_seen_events_first_time_once_per_municipality(store: Store) -> None:
    """first_time() is True once per (municipality, event id)."""
    with store.transaction() as conn:
        assert store.events.first_time(conn, "A", "ev-1") is True
        assert store.events.first_time(conn, "A", "ev-1") is False
        assert store.events.first_time(conn, "B", "ev-1") is True
    with store.transaction() as conn:
        assert store.events.first_time(conn, "A", "ev-1") is False


def test_a_rolled_back_event_is_not_seen(store: Store) -> None:
    """Seeing an event belongs to the transaction that handled it."""
    try:
        with store.transaction() as conn:
            assert store.events.first_time(conn, "A", "ev-9") is True
            raise RuntimeError("handling failed")
    except RuntimeError:
        pass
    with store.transaction() as conn:
        assert store.events.first_time(conn, "A", "ev-9") is True
