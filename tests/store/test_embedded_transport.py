"""The embedded transport: the Transport contract over the store, durable and shared."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from digidialog.domain.timezone import OSLO
from digidialog.errors import TransportUnavailable
from digidialog.store import Store
from digidialog.transport import Envelope, Transport, async_queue, request
from digidialog.transport.embedded import EmbeddedTransport
from tests.store.workers import in_processes, receive_all

QUEUE = async_queue("1000001")


@pytest.fixture
def transport(live_store: Store) -> Iterator[EmbeddedTransport]:
    """A transport on the test's store, with a short poll interval."""
    opened = EmbeddedTransport(live_store, poll_interval=0.02)
    yield opened
    opened.close()


def message(body: bytes = b"<MsgHead/>") -> Envelope:
    """An envelope with every field set."""
    return Envelope(
        body=body, subject="DIALOG_INNBYGGER_EKONTAKT", from_her_id="100000",
        to_her_id="1000001", cpa_id="cpa-1",
        application_timestamp=datetime(2026, 3, 2, 9, 30, tzinfo=OSLO),
        correlation_id="corr-1", reply_to="100000_syncreply", content_type="text/xml",
        properties=MappingProxyType({"errorCondition": "", "x": "ø"}),
    )


def test_it_is_a_transport(transport: EmbeddedTransport) -> None:
    """The embedded transport satisfies the contract's protocol."""
    contract: Transport = transport
    assert contract is transport


def test_send_receive_accept(transport: EmbeddedTransport) -> None:
    """What is sent arrives unchanged, once; accepted, it is gone."""
    sent = message()
    transport.send(QUEUE, sent)
    delivery = transport.receive(QUEUE, timeout=1)
    assert delivery is not None
    assert delivery.envelope == sent
    assert delivery.envelope.application_timestamp == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert (delivery.queue, delivery.redelivered) == (QUEUE, False)
    assert transport.receive(QUEUE, timeout=0.05) is None  # leased: nobody else gets it
    delivery.accept()
    assert transport.depth(QUEUE) == 0
    assert transport.receive(QUEUE, timeout=0.05) is None


def test_queues_are_separate_and_ordered(transport: EmbeddedTransport) -> None:
    """Each queue hands out its own messages, oldest first."""
    for number in range(3):
        transport.send(QUEUE, message(f"a{number}".encode()))
    transport.send("other", message(b"b"))
    bodies = []
    while (delivery := transport.receive(QUEUE, timeout=0.05)) is not None:
        bodies.append(delivery.envelope.body)
        delivery.accept()
    assert bodies == [b"a0", b"a1", b"a2"]
    assert transport.depth("other") == 1


def test_release_gives_it_back_redelivered(transport: EmbeddedTransport) -> None:
    """A released message comes back, marked redelivered; settling twice does nothing."""
    transport.send(QUEUE, message())
    first = transport.receive(QUEUE, timeout=1)
    assert first is not None
    first.release()
    first.release()
    again = transport.receive(QUEUE, timeout=1)
    assert again is not None and again.redelivered
    first.accept()  # already settled: must not delete the message now held by `again`
    assert transport.depth(QUEUE) == 1
    again.accept()
    assert transport.depth(QUEUE) == 0


def test_an_unsettled_message_comes_back_after_its_lease(live_store: Store) -> None:
    """A receiver that dies (never settles) loses the message when its lease runs out."""
    dying = EmbeddedTransport(live_store, lease_seconds=0.3, poll_interval=0.02)
    survivor = EmbeddedTransport(live_store, poll_interval=0.02)
    dying.send(QUEUE, message())
    lost = dying.receive(QUEUE, timeout=1)
    assert lost is not None
    assert survivor.receive(QUEUE, timeout=0.1) is None
    back = survivor.receive(QUEUE, timeout=2)
    assert back is not None and back.redelivered
    lost.accept()  # too late: the lease moved on, the message stays with the survivor
    assert survivor.depth(QUEUE) == 1
    back.accept()
    assert survivor.depth(QUEUE) == 0
    survivor.close()


def test_close_hands_back_unsettled_deliveries(live_store: Store) -> None:
    """Closing a transport releases what it holds at once, without waiting for the lease."""
    first = EmbeddedTransport(live_store, lease_seconds=600)
    first.send(QUEUE, message())
    assert first.receive(QUEUE, timeout=1) is not None
    first.close()
    with pytest.raises(TransportUnavailable, match="closed"):
        first.receive(QUEUE, timeout=0)
    second = EmbeddedTransport(live_store)
    delivery = second.receive(QUEUE, timeout=1)
    assert delivery is not None and delivery.redelivered
    second.close()


def test_competing_receivers_in_threads_get_each_message_once(live_store: Store) -> None:
    """Four receivers on one queue share 100 messages: each delivered exactly once."""
    sender = EmbeddedTransport(live_store)
    for number in range(100):
        sender.send(QUEUE, message(str(number).encode()))
    start = threading.Barrier(4)

    def receive() -> list[bytes]:
        own = EmbeddedTransport(live_store, poll_interval=0.02)
        start.wait()
        bodies = []
        while (delivery := own.receive(QUEUE, timeout=0.3)) is not None:
            bodies.append(delivery.envelope.body)
            delivery.accept()
        own.close()
        return bodies

    with ThreadPoolExecutor(4) as pool:
        results = [pool.submit(receive) for _ in range(4)]
        counts = Counter(body for result in results for body in result.result())
    assert counts == Counter(str(number).encode() for number in range(100))
    sender.close()


def test_competing_receivers_in_processes_get_each_message_once(live_store: Store,
                                                                 store_url: str) -> None:
    """Two processes on one SQLite file or PostgreSQL database split a queue exactly."""
    sender = EmbeddedTransport(live_store)
    for number in range(100):
        sender.send(QUEUE, message(str(number).encode()))
    first, second = in_processes(receive_all, [(store_url, QUEUE), (store_url, QUEUE)])
    assert Counter(first) + Counter(second) == Counter(str(n).encode() for n in range(100))
    sender.close()


def test_messages_survive_reopening_the_store(store_url: str) -> None:
    """Sent, then the process's store is closed: a new store on the same URL has it."""
    with Store.open(store_url) as store:
        EmbeddedTransport(store).send(QUEUE, message(b"durable"))
    with Store.open(store_url) as reopened:
        transport = EmbeddedTransport(reopened)
        delivery = transport.receive(QUEUE, timeout=1)
        assert delivery is not None and delivery.envelope.body == b"durable"
        delivery.accept()
        transport.close()


def test_a_send_wakes_a_waiting_receiver_at_once(live_store: Store) -> None:
    """In one process a receiver does not wait for its next poll to see a new message."""
    transport = EmbeddedTransport(live_store, poll_interval=5)
    timer = threading.Timer(0.2, transport.send, (QUEUE, message()))
    started = time.monotonic()
    timer.start()
    delivery = transport.receive(QUEUE, timeout=4)
    assert delivery is not None
    assert time.monotonic() - started < 2
    transport.close()


def test_request_reply_over_the_embedded_transport(transport: EmbeddedTransport) -> None:
    """The contract's request() works: a responder answers on the reply queue."""
    def respond() -> None:
        delivery = transport.receive("1000001_sync", timeout=5)
        assert delivery is not None
        asked = delivery.envelope
        delivery.accept()
        transport.send(asked.reply_to or "", Envelope(body=b"answer",
                                                      correlation_id=asked.correlation_id))

    responder = threading.Thread(target=respond)
    responder.start()
    answer = request(transport, "1000001_sync", Envelope(body=b"question"),
                     reply_queue="100000_syncreply", timeout=5)
    responder.join()
    assert answer is not None and answer.body == b"answer"


def test_an_unavailable_store_is_transport_unavailable(tmp_path: Path) -> None:
    """SQLite locked by another process past the busy timeout: TransportUnavailable."""
    path = tmp_path / "queues.db"
    store = Store.open(f"sqlite:///{path}", busy_timeout=0.2)
    transport = EmbeddedTransport(store)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TransportUnavailable, match="locked"):
            transport.send(QUEUE, message())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    transport.send(QUEUE, message())
    assert transport.depth(QUEUE) == 1
    transport.close()
    store.close()
