"""The outbox: handed out again and again until acked, delivered to the engine once each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from profil_support import drain, started

from digidialog.adapters.registry import AdapterSettings
from digidialog.domain.events import StaffMessageWritten
from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.mock.harness import OPEN, ProfilHarness


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


def _bodies(events: Sequence[object]) -> list[str]:
    """The bodies of the staff messages among ``events``."""
    return [e.message.body for e in events if isinstance(e, StaffMessageWritten)]


def test_unacked_messages_come_once_although_profil_repeats_them(
        harness: ProfilHarness) -> None:
    """Three OutboxMessage events, nothing acked in between: Profil hands the first message
    out three times, the second twice; the feed delivers each once."""
    citizen = harness.seed_citizens(1)[0]
    adapter = harness.adapter()
    for text in ("første", "andre", "tredje"):
        harness.mock.write_staff_message(citizen, OPEN, text)
    events, _ = drain(adapter, acknowledge=False)
    assert _bodies(events) == ["første", "andre", "tredje"]
    outbox_reads = [e for e in harness.mock.exchanges if e.operation == "GetOutboxMessages"]
    assert len(outbox_reads) == 3
    assert all(not m.acked for m in harness.mock.state.outbox.values())


def test_acknowledge_acks_what_the_batch_delivered(harness: ProfilHarness) -> None:
    """After acknowledge, Profil no longer hands the messages out."""
    citizen = harness.seed_citizens(1)[0]
    adapter = harness.adapter()
    harness.mock.write_staff_message(citizen, OPEN, "Hei")
    batch = adapter.changes(None)
    adapter.acknowledge(batch)
    assert all(m.acked for m in harness.mock.state.outbox.values())
    assert harness.mock.state.pending_outbox(200) == []


def test_reading_again_from_an_older_checkpoint_gives_the_same_events(
        harness: ProfilHarness) -> None:
    """A crash after the batch but before the engine stored it: the same events again,
    with the same event ids (the engine's idempotency keys), even though Profil has
    forgotten the acked messages by then."""
    citizen = harness.seed_citizens(1)[0]
    adapter = harness.adapter()
    harness.mock.write_staff_message(citizen, OPEN, "Påminnelse")
    first, _ = drain(adapter)
    again, _ = drain(harness.adapter())
    assert [e.event_id for e in again] == [e.event_id for e in first]
    assert _bodies(again) == ["Påminnelse"]


def test_a_message_not_acked_in_time_is_not_delivered_twice(harness: ProfilHarness) -> None:
    """The engine read a batch but never acknowledged it; a later event reads the outbox
    again, which still holds the old message: only the new one is new."""
    citizen = harness.seed_citizens(1)[0]
    adapter = harness.adapter()
    harness.mock.write_staff_message(citizen, OPEN, "gammel")
    first = adapter.changes(None)
    harness.mock.write_staff_message(citizen, OPEN, "ny")
    second = adapter.changes(first.checkpoint)
    assert _bodies(first.events) == ["gammel"]
    assert _bodies(second.events) == ["ny"]


def test_more_waiting_than_one_read_holds(harness: ProfilHarness) -> None:
    """With reads of two messages, five waiting messages still all arrive, each once:
    a full read is followed, after the acks, by another read."""
    citizen = harness.seed_citizens(1)[0]
    settings = harness.settings()
    adapter = ProfilAdapter(AdapterSettings(
        base_url=settings.base_url, username=settings.username, password=settings.password,
        options={**settings.options, "outbox_batch": 2}))
    try:
        with harness.mock._lock:
            for number in range(5):
                harness.mock.state.write(citizen, OPEN, f"melding {number}")
        harness.mock.notify("OutboxMessage", citizen)  # one event for all five
        events, _ = drain(adapter)
        assert _bodies(events) == [f"melding {n}" for n in range(5)]
        assert all(m.acked for m in harness.mock.state.outbox.values())
    finally:
        adapter.close()


def test_staff_message_fields(harness: ProfilHarness) -> None:
    """MessageId, thread, reply, service, author, interim and the exact text arrive."""
    citizen = harness.seed_citizens(1)[0]
    harness.mock.write_staff_message(citizen, OPEN, "Svar 👵🏽 ŋ", subject="Re: Nøkkel",
                                     thread="thread-1", in_reply_to="msg-1", interim=True)
    (event,) = drain(harness.adapter())[0]
    assert isinstance(event, StaffMessageWritten)
    message = event.message
    assert (message.thread_id, message.in_reply_to, message.service_code) == (
        "thread-1", "msg-1", str(OPEN))
    assert (message.subject, message.body, message.author, message.interim) == (
        "Re: Nøkkel", "Svar 👵🏽 ŋ", "Kari Sykepleier", True)
    assert event.event_id == f"profil-message-{message.vendor_message_id}"
    assert event.citizen_id == citizen
