"""The in-memory transport keeps the contract: unsettled deliveries, redelivery, hand-back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from digidialog.errors import TransportUnavailable
from digidialog.transport import Envelope, request
from digidialog.transport.memory import MemoryBroker, MemoryTransport


def envelope(body: bytes = b"<x/>", **fields: object) -> Envelope:
    """An envelope with every field set, overridable."""
    values: dict[str, object] = {
        "subject": "DIALOG_INNBYGGER_EKONTAKT", "from_her_id": "100000", "to_her_id": "1000001",
        "cpa_id": "cpa-1", "application_timestamp": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "properties": MappingProxyType({"errorCondition": "none"}),
    }
    values.update(fields)
    return Envelope(body=body, **values)  # type: ignore[arg-type]


def test_a_sent_envelope_arrives_whole_and_is_gone_once_accepted() -> None:
    """What is received equals what was sent; accepted, it does not come back."""
    transport = MemoryTransport()
    sent = envelope()
    transport.send("1000001_async", sent)
    delivery = transport.receive("1000001_async", timeout=1)
    assert delivery is not None
    assert delivery.envelope == sent
    assert delivery.queue == "1000001_async"
    assert not delivery.redelivered
    delivery.accept()
    assert transport.receive("1000001_async", timeout=0.05) is None
    assert transport.broker.depth("1000001_async") == 0


def test_receive_returns_none_after_the_timeout_on_an_empty_queue() -> None:
    """Nothing to receive is ``None``, not an error."""
    assert MemoryTransport().receive("empty", timeout=0.05) is None


def test_messages_come_out_in_the_order_they_were_sent() -> None:
    """A queue is first in, first out."""
    transport = MemoryTransport()
    for number in range(3):
        transport.send("q", envelope(str(number).encode()))
    bodies = []
    while (delivery := transport.receive("q", timeout=0.05)) is not None:
        bodies.append(delivery.envelope.body)
        delivery.accept()
    assert bodies == [b"0", b"1", b"2"]


def test_a_released_delivery_comes_back_first_and_marked_redelivered() -> None:
    """release() hands the message back to the front of its queue."""
    transport = MemoryTransport()
    transport.send("q", envelope(b"first"))
    transport.send("q", envelope(b"second"))
    first = transport.receive("q", timeout=1)
    assert first is not None
    first.release()
    again = transport.receive("q", timeout=1)
    assert again is not None
    assert again.envelope.body == b"first"
    assert again.redelivered


def test_closing_a_transport_hands_its_unsettled_deliveries_to_another_client() -> None:
    """A receiver that dies without settling loses nothing: the next one gets it, redelivered."""
    broker = MemoryBroker()
    dying, survivor = broker.connect(), broker.connect()
    dying.send("q", envelope(b"held"))
    held = dying.receive("q", timeout=1)
    assert held is not None
    dying.close()
    with pytest.raises(TransportUnavailable, match="handed it back"):
        held.accept()
    held.release()  # releasing a handed-back delivery is harmless
    again = survivor.receive("q", timeout=1)
    assert again is not None
    assert again.envelope.body == b"held"
    assert again.redelivered
    with pytest.raises(TransportUnavailable, match="closed"):
        dying.send("q", envelope())


def test_settling_twice_is_the_first_settlement() -> None:
    """An accepted delivery released afterwards does not come back."""
    transport = MemoryTransport()
    transport.send("q", envelope())
    delivery = transport.receive("q", timeout=1)
    assert delivery is not None
    delivery.accept()
    delivery.release()
    assert transport.broker.depth("q") == 0


def test_close_wakes_a_receive_waiting_in_another_thread() -> None:
    """A receiver blocked on an empty queue returns promptly when its transport closes."""
    transport = MemoryTransport()
    results: list[object] = []
    waiter = threading.Thread(target=lambda: results.append(transport.receive("q", timeout=10)))
    waiter.start()
    transport.close()
    waiter.join(timeout=2)
    assert not waiter.is_alive()
    assert results == [None]


def test_competing_receivers_in_threads_get_every_message_exactly_once() -> None:
    """Several threads draining one queue see each message once between them."""
    broker = MemoryBroker()
    sender = broker.connect()
    for number in range(200):
        sender.send("work", envelope(str(number).encode()))
    seen: list[bytes] = []
    seen_lock = threading.Lock()

    def drain() -> None:
        receiver = broker.connect()
        while (delivery := receiver.receive("work", timeout=0.1)) is not None:
            with seen_lock:
                seen.append(delivery.envelope.body)
            delivery.accept()

    workers = [threading.Thread(target=drain) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(seen) == sorted(str(n).encode() for n in range(200))


def test_request_gets_the_reply_with_its_correlation_id() -> None:
    """request() over memory: the answer to *this* request is returned, a stale one dropped."""
    broker = MemoryBroker()
    client, server = broker.connect(), broker.connect()
    client.send("client_syncreply", envelope(b"stale", correlation_id="an-older-request"))

    def answer() -> None:
        delivery = server.receive("1000001_sync", timeout=5)
        assert delivery is not None
        asked = delivery.envelope
        assert asked.reply_to is not None
        server.send(asked.reply_to, envelope(b"answer", correlation_id=asked.correlation_id))
        delivery.accept()

    replier = threading.Thread(target=answer)
    replier.start()
    question = envelope(b"question")
    reply = request(client, "1000001_sync", question, reply_queue="client_syncreply", timeout=5)
    replier.join()
    assert reply is not None
    assert reply.body == b"answer"
    assert reply.correlation_id == question.message_id


def test_declare_queues_names_only_the_new_ones() -> None:
    """Declaring is idempotent; queues also appear on first use."""
    transport = MemoryTransport()
    assert transport.declare_queues(["a", "b"]) == ["a", "b"]
    transport.send("c", envelope())
    assert transport.declare_queues(["a", "c", "d"]) == ["d"]
