"""How fast a bare consumer drains a queue through the AMQP transport: the engine's ceiling.

:func:`bare_consumer_rate` fills a fresh queue with ``count`` messages of
about 4 KB (the size of a Dialogmelding with its MsgHead), then receives and
accepts them one by one, doing nothing else, and returns messages per second.
The engine's own consuming rate, measured in the same run against the same
broker, is compared to it: what the engine loses to storing, decoding and
answering shows up as the gap.

The clock is wall time (:func:`time.perf_counter`): the consumer mostly
waits for the broker, so CPU time would flatter it. Filling the queue is not
timed; attaching the receiver link is (once, a millisecond or so).

``python -m benchmarks.bare_consumer [COUNT]`` runs it against
``$DIGIDIALOG_TEST_AMQP`` (or the local RabbitMQ) and prints the rate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

from digidialog.testing.services import DEFAULT_AMQP
from digidialog.transport import Envelope
from digidialog.transport.amqp import AmqpTransport

MESSAGE_BYTES = 4096


def _payload(number: int, size: int = MESSAGE_BYTES) -> bytes:
    """About ``size`` bytes of XML-looking bytes, different for every message."""
    head = f'<?xml version="1.0" encoding="utf-8"?><MsgHead n="{number}"><Body>'.encode()
    tail = b"</Body></MsgHead>"
    filler = b"x" * max(0, size - len(head) - len(tail))
    return head + filler + tail


def _delete_queue(name: str) -> None:
    """Remove the benchmark's queue where rabbitmqctl is at hand (it is empty anyway)."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is not None:
        subprocess.run([rabbitmqctl, "-q", "delete_queue", name],  # noqa: S603 - fixed argv
                       capture_output=True, check=False, timeout=60)


def bare_consumer_rate(url: str, count: int, *, prefetch: int = 1,
                       size: int = MESSAGE_BYTES) -> float:
    """Messages per second one consumer receives and accepts from a fresh queue of ``count``.

    Each message is about ``size`` bytes (the engine's row passes its citizen message's size).
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    queue = f"digidialog_bench_{uuid.uuid4().hex[:12]}"
    producer = AmqpTransport(url)
    consumer = AmqpTransport(url, prefetch=prefetch)
    try:
        producer.declare_queues([queue])
        for number in range(count):
            producer.send(queue, Envelope(body=_payload(number, size), from_her_id="100000",
                                          to_her_id="1000001", subject="DIALOG_INNBYGGER_EKONTAKT"))
        consumer.ping()  # connected before the clock starts
        started = time.perf_counter()
        for _ in range(count):
            delivery = consumer.receive(queue, timeout=30)
            if delivery is None:
                raise RuntimeError(f"{queue}: a message did not arrive within 30 s")
            delivery.accept()
        elapsed = time.perf_counter() - started
    finally:
        consumer.close()
        producer.close()
        _delete_queue(queue)
    return count / elapsed


def main(argv: list[str]) -> None:
    """Print the bare consumer's rate for ``argv[0]`` messages (default 2000)."""
    count = int(argv[0]) if argv else 2000
    url = os.environ.get("DIGIDIALOG_TEST_AMQP", DEFAULT_AMQP)
    for prefetch in (1, 10):
        rate = bare_consumer_rate(url, count, prefetch=prefetch)
        print(f"bare consumer, {count} x {MESSAGE_BYTES} B, prefetch {prefetch}: {rate:,.0f} msg/s")


if __name__ == "__main__":
    main(sys.argv[1:])
