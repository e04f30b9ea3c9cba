"""Threads (answer deadlines, interim answers, closing, overdue) and links both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest

from digidialog.store import Store
from tests.store.conftest import T0

H = timedelta(hours=1)
DAY = timedelta(days=1)


def open_thread(store: Store, root: str = "root-1", municipality: str = "1000001",
                vendor_thread_id: str | None = None) -> None:
    """Open a thread with fixed details."""
    with store.transaction() as conn:
        store.threads.open(conn, root=root, municipality=municipality, service_code="HSP",
                           service_her_id="1000002", citizen_id="cit-1", opened_at=T0,
                           vendor_thread_id=vendor_thread_id)


def citizen_writes(store: Store, msg_id: str, at_hours: float, root: str = "root-1") -> None:
    """The citizen writes; the answer is due a day later."""
    at = T0 + at_hours * H
    with store.transaction() as conn:
        store.threads.note_citizen_message(conn, root, msg_id, at, at + DAY)


def service_answers(store: Store, at_hours: float, *, interim: bool = False,
                    root: str = "root-1") -> None:
    """The service answers."""
    with store.transaction() as conn:
        store.threads.note_answer(conn, root, T0 + at_hours * H, interim=interim)


def test_open_is_idempotent_and_found_both_ways(store: Store) -> None:
    """A thread opens once; it is found by root and, once known, by the vendor's id."""
    open_thread(store)
    with store.transaction() as conn:
        store.threads.open(conn, root="root-1", municipality="other", service_code="X",
                           service_her_id="9", citizen_id="someone", opened_at=T0 + DAY)
    thread = store.threads.get("root-1")
    assert thread is not None
    assert (thread.municipality, thread.service_code, thread.service_her_id,
            thread.citizen_id, thread.opened_at) == ("1000001", "HSP", "1000002", "cit-1", T0)
    assert thread.answer_deadline is None and thread.vendor_thread_id is None
    assert store.threads.by_vendor_thread("1000001", "v-7") is None
    with store.transaction() as conn:
        store.threads.set_vendor_thread(conn, "root-1", "v-7")
    found = store.threads.by_vendor_thread("1000001", "v-7")
    assert found is not None and found.root == "root-1"
    assert store.threads.by_vendor_thread("other-municipality", "v-7") is None
    assert store.threads.get("nope") is None


def test_deadline_from_the_earliest_unanswered_message(store: Store) -> None:
    """Two citizen messages: the first one's deadline stands; the last message is recorded."""
    open_thread(store)
    citizen_writes(store, "m1", 1)
    citizen_writes(store, "m2", 3)
    citizen_writes(store, "m1", 1)  # noted twice: nothing changes
    thread = store.threads.get("root-1")
    assert thread is not None
    assert thread.answer_deadline == T0 + H + DAY
    assert (thread.last_citizen_msg_id, thread.last_citizen_message_at) == ("m2", T0 + 3 * H)


def test_interim_keeps_the_deadline_final_answer_clears_it(store: Store) -> None:
    """An interim answer is shown but the thread stays owed; a final answer settles it."""
    open_thread(store)
    citizen_writes(store, "m1", 1)
    service_answers(store, 2, interim=True)
    thread = store.threads.get("root-1")
    assert thread is not None
    assert thread.interim_answer_at == T0 + 2 * H and thread.answer_deadline == T0 + H + DAY
    overdue = store.threads.overdue(T0 + 2 * DAY)
    assert [(t.root, t.interim_answer_at) for t in overdue] == [("root-1", T0 + 2 * H)]
    service_answers(store, 5)
    answered = store.threads.get("root-1")
    assert answered is not None
    assert (answered.answer_deadline, answered.interim_answer_at,
            answered.last_answer_at) == (None, None, T0 + 5 * H)
    assert store.threads.overdue(T0 + 2 * DAY) == []


def test_a_message_older_than_the_answer_sets_no_deadline(store: Store) -> None:
    """A citizen message processed late, already answered, does not reopen the thread."""
    open_thread(store)
    service_answers(store, 5)
    citizen_writes(store, "late", 4)
    thread = store.threads.get("root-1")
    assert thread is not None and thread.answer_deadline is None
    citizen_writes(store, "new", 6)
    thread = store.threads.get("root-1")
    assert thread is not None and thread.answer_deadline == T0 + 6 * H + DAY


def test_overdue_lists_open_owed_threads_past_deadline(store: Store) -> None:
    """Only unanswered, unclosed threads past their deadline, most overdue first."""
    for root, municipality in [("a", "A"), ("b", "A"), ("c", "B"), ("d", "A"), ("e", "A")]:
        open_thread(store, root, municipality)
    citizen_writes(store, "ma", 2, root="a")
    citizen_writes(store, "mb", 1, root="b")
    citizen_writes(store, "mc", 0, root="c")
    citizen_writes(store, "md", 30, root="d")  # not due yet
    citizen_writes(store, "me", 0, root="e")
    with store.transaction() as conn:
        store.threads.close(conn, "e", T0 + 3 * H)
    now = T0 + DAY + 3 * H
    assert [t.root for t in store.threads.overdue(now)] == ["c", "b", "a"]
    assert [t.root for t in store.threads.overdue(now, "A")] == ["b", "a"]
    closed = store.threads.get("e")
    assert closed is not None and closed.closed_at == T0 + 3 * H
    citizen_writes(store, "me2", 4, root="e")
    assert "e" not in [t.root for t in store.threads.overdue(now + 10 * DAY)]


def test_links_both_ways(store: Store) -> None:
    """A link is found by MsgId, by vendor id, and as the latest of its thread."""
    with store.transaction() as conn:
        store.links.add(conn, municipality="A", msg_id="m1", vendor_id=None,
                        thread_root="r", direction="in")
        store.links.add(conn, municipality="A", msg_id="m2", vendor_id="v2",
                        thread_root="r", direction="out")
        store.links.add(conn, municipality="A", msg_id="m3", vendor_id="v3",
                        thread_root="r", direction="in")
    m1 = store.links.by_msg_id("m1")
    assert m1 is not None and (m1.vendor_id, m1.thread_root, m1.direction) == (None, "r", "in")
    with store.transaction() as conn:  # delivered to the EPJ: now the vendor id is known
        store.links.add(conn, municipality="A", msg_id="m1", vendor_id="v1",
                        thread_root="ignored", direction="out")
    again = store.links.by_msg_id("m1")
    assert again is not None and (again.vendor_id, again.thread_root) == ("v1", "r")
    by_vendor = store.links.by_vendor_id("A", "v2")
    assert by_vendor is not None and by_vendor.msg_id == "m2"
    assert store.links.by_vendor_id("B", "v2") is None
    latest = store.links.latest_in_thread("r")
    latest_out = store.links.latest_in_thread("r", "out")
    assert latest is not None and latest.msg_id == "m3"
    assert latest_out is not None and latest_out.msg_id == "m2"
    assert store.links.latest_in_thread("other") is None
    assert store.links.by_msg_id("unknown") is None


def test_links_refuse_an_unknown_direction(store: Store) -> None:
    """Direction is "in" or "out"."""
    with pytest.raises(ValueError, match="direction"), store.transaction() as conn:
        store.links.add(conn, municipality="A", msg_id="m", vendor_id=None, thread_root="r",
                        direction="sideways")
