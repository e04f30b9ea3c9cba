"""A connection's first send to a queue, right after the queue's existence probe, is not lost.

The AMQP transport checks that a queue exists (a receiver attached without
credit, detached again) before the first send to it, then attaches the sender
in a new session. Ending the probe's session without waiting for the broker
let proton give the sender's session the same channel number while RabbitMQ
3.10 was still ending it: the broker answered "no such channel" and dropped
the connection, and the send failed. It happened to about one connection in
ten when fifty attached at once, which is how portal front ends send their
synchronous requests.
"""

from __future__ import annotations

import threading

import pytest

from digidialog.testing.services import amqp_url
from digidialog.transport import Envelope
from digidialog.transport.amqp import AmqpTransport
from tests.engine.world import expire_test_queues, unique_her_id

pytestmark = pytest.mark.services

CONNECTIONS = 50


@pytest.fixture
def queues() -> list[str]:
    """A target queue and one reply queue per connection, which the broker drops a minute
    after their last use (the test worlds' policy: deleting 51 queues takes half a minute)."""
    expire_test_queues()
    base = unique_her_id()
    names = [f"{base}_target", *(f"{base}_reply{n}" for n in range(CONNECTIONS))]
    declarer = AmqpTransport(amqp_url(), timeout=5.0)
    declarer.declare_queues(names)
    declarer.close()
    return names


def test_fifty_connections_each_attach_a_receiver_then_send(queues: list[str]) -> None:
    """Each connection receives from its own queue, then sends once: every send arrives."""
    target, replies = queues[0], queues[1:]
    failures: list[str] = []

    def first_send(reply: str) -> None:
        transport = AmqpTransport(amqp_url(), timeout=5.0)
        try:
            transport.receive(reply, timeout=0)
            transport.send(target, Envelope(body=reply.encode()))
        except Exception as error:  # collected: the test names them all
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            transport.close()

    threads = [threading.Thread(target=first_send, args=(reply,)) for reply in replies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    consumer = AmqpTransport(amqp_url(), timeout=5.0, prefetch=10)
    arrived = set()
    try:
        while (delivery := consumer.receive(target, timeout=2.0)) is not None:
            arrived.add(delivery.envelope.body.decode())
            delivery.accept()
    finally:
        consumer.close()
    assert arrived == set(replies)
