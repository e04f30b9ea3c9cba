"""The AMQP 1.0 transport against the real RabbitMQ (with its AMQP 1.0 plugin).

Every test works on queues of its own, named uniquely and deleted afterwards.
Network failures are made with a TCP proxy between the transport and the
broker, so the shared broker is never restarted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import MappingProxyType

import pytest
from benchmarks.bare_consumer import bare_consumer_rate
from proton import Message, symbol, timestamp, ulong

from digidialog.errors import FatalError, TransportUnavailable
from digidialog.testing.services import amqp_url
from digidialog.transport import Envelope, request
from digidialog.transport.amqp import AmqpTransport
from digidialog.transport.amqp_connection import BrokerConnection
from digidialog.transport.amqp_errors import NoSuchQueue
from tests.transport.tcp_proxy import TcpProxy

pytestmark = pytest.mark.services

RABBITMQCTL = shutil.which("rabbitmqctl")


def rabbitmqctl(*args: str) -> str:
    """Run rabbitmqctl (skipping the test where the broker is not local)."""
    if RABBITMQCTL is None:
        pytest.skip("rabbitmqctl is not on this machine")
    done = subprocess.run([RABBITMQCTL, "-q", *args], capture_output=True, text=True,
                          check=True, timeout=60)
    return done.stdout


@pytest.fixture
def url() -> str:
    """The test broker's URL (skips or fails when it is down)."""
    return amqp_url()


@pytest.fixture
def transports(url: str, queue: Callable[[str], str]) -> Iterator[Callable[..., AmqpTransport]]:
    """Makes transports to the broker (keyword arguments as for AmqpTransport); all closed after.

    Closed before the test's queues are deleted: RabbitMQ 3.10's AMQP 1.0 plugin
    crashes the session of a consumer whose queue is deleted under it.
    """
    made: list[AmqpTransport] = []

    def make(target: str | None = None, **options: object) -> AmqpTransport:
        transport = AmqpTransport(target or url, timeout=5.0, **options)  # type: ignore[arg-type]
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


@pytest.fixture
def queue(url: str) -> Iterator[Callable[[str], str]]:
    """Declares a uniquely named durable queue per call; deletes them all afterwards."""
    created: list[str] = []
    declarer = AmqpTransport(url, timeout=5.0)

    def make(role: str = "q") -> str:
        name = f"digidialog_test_{uuid.uuid4().hex[:12]}_{role}"
        assert declarer.declare_queues([name]) == [name]
        created.append(name)
        return name

    yield make
    if RABBITMQCTL is not None:
        for name in created:
            subprocess.run([RABBITMQCTL, "-q", "delete_queue", name], capture_output=True,
                           check=False, timeout=60)
    else:  # a broker elsewhere: leave the queues empty at least
        for name in created:
            while (delivery := declarer.receive(name, timeout=0.2)) is not None:
                delivery.accept()
    declarer.close()


def full_envelope(body: bytes = b"<MsgHead/>") -> Envelope:
    """An envelope with every field set."""
    return Envelope(
        body=body,
        subject="DIALOG_INNBYGGER_EKONTAKT",
        from_her_id="100000",
        to_her_id="1000001",
        cpa_id="9c2b1a40-0000-4000-8000-000000000001",
        application_timestamp=datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC),
        correlation_id="the-request",
        reply_to="100000_syncreply",
        content_type="application/xml",
        properties=MappingProxyType({"errorCondition": "transport:none", "extra": "yes"}),
    )


def test_every_envelope_field_survives_the_broker(transports: Callable[..., AmqpTransport],
                                                   queue: Callable[[str], str]) -> None:
    """Body, subject, the four Helsenorge properties, ids, reply-to, content type and extras."""
    transport, name = transports(), queue("roundtrip")
    sent = full_envelope(bytes(range(256)) * 16)
    transport.send(name, sent)
    delivery = transport.receive(name, timeout=5)
    assert delivery is not None
    assert delivery.envelope == sent
    assert delivery.queue == name
    assert not delivery.redelivered
    delivery.accept()
    assert transport.receive(name, timeout=0.3) is None


def test_a_message_with_wrongly_typed_properties_is_still_delivered(
        url: str, transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """Integer HER-ids, an AMQP timestamp, a UUID id and a string body are read leniently."""
    name = queue("lenient")
    odd = Message(
        body="<tekst/>",  # an amqp-value string, not a data section
        id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        correlation_id=ulong(42),
        subject="APPREC",
        content_type=symbol("text/xml"),
        properties={"fromHerId": 100000, "toHerId": ulong(1000001), "cpaId": None,
                    "applicationTimeStamp": timestamp(1714566615000), "count": 3, "flag": True},
    )
    garbled = Message(body=b"<x/>", inferred=True,
                      properties={"applicationTimeStamp": "not a time", "toHerId": b"1000001"})
    raw = BrokerConnection(url, timeout=5, heartbeat=None, container_id="lenient-test")
    try:
        link = raw.open_sender(f"/amq/queue/{name}")
        assert raw.send(link, odd.encode())[0] == 36  # accepted
        assert raw.send(link, garbled.encode())[0] == 36
    finally:
        raw.close()
    transport = transports()
    first = transport.receive(name, timeout=5)
    second = transport.receive(name, timeout=5)
    assert first is not None and second is not None
    assert first.envelope.body == b"<tekst/>"
    assert first.envelope.message_id == "12345678-1234-5678-1234-567812345678"
    assert first.envelope.correlation_id == "42"
    assert (first.envelope.from_her_id, first.envelope.to_her_id) == ("100000", "1000001")
    assert first.envelope.cpa_id is None
    assert first.envelope.application_timestamp == datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
    assert first.envelope.content_type == "text/xml"
    assert dict(first.envelope.properties) == {"count": "3", "flag": "true"}
    assert second.envelope.application_timestamp is None
    assert second.envelope.to_her_id == "1000001"
    first.accept()
    second.accept()


def test_an_unsettled_delivery_comes_back_when_its_receiver_closes(
        transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """A receiver that goes away without settling loses nothing; the next one sees redelivered."""
    name = queue("unsettled")
    dying, survivor = transports(), transports()
    dying.send(name, full_envelope(b"held"))
    held = dying.receive(name, timeout=5)
    assert held is not None
    dying.close()
    held.release()  # harmless: the broker has it back already
    again = survivor.receive(name, timeout=5)
    assert again is not None
    assert again.envelope.message_id == held.envelope.message_id
    assert again.redelivered
    again.accept()


def test_a_released_delivery_is_redelivered(transports: Callable[..., AmqpTransport],
                                            queue: Callable[[str], str]) -> None:
    """release() settles RELEASED, which RabbitMQ requeues; settling again changes nothing."""
    transport, name = transports(), queue("release")
    transport.send(name, full_envelope(b"again"))
    first = transport.receive(name, timeout=5)
    assert first is not None
    first.release()
    first.accept()  # the first settlement decided
    second = transport.receive(name, timeout=5)
    assert second is not None
    assert second.envelope.message_id == first.envelope.message_id
    assert second.redelivered
    second.accept()
    assert transport.receive(name, timeout=0.3) is None


CONSUMER = """
import sys, time
from digidialog.transport.amqp import AmqpTransport
transport = AmqpTransport(sys.argv[1], timeout=5.0)
assert transport.receive(sys.argv[2], timeout=0) is None
print("ready", flush=True)
while (delivery := transport.receive(sys.argv[2], timeout=2.0)) is not None:
    time.sleep(0.01)  # some work, so that a greedy consumer would show
    print(delivery.envelope.message_id, flush=True)
    delivery.accept()
transport.close()
"""


def test_competing_consumers_in_two_processes_share_the_work(
        url: str, transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """Each message reaches exactly one consumer, and both consumers get a fair share."""
    name = queue("compete")
    consumers = [
        subprocess.Popen([sys.executable, "-c", CONSUMER, url, name], stdout=subprocess.PIPE,
                         text=True)
        for _ in range(2)
    ]
    for consumer in consumers:
        assert consumer.stdout is not None
        assert consumer.stdout.readline().strip() == "ready"
    sender = transports()
    sent = [full_envelope(str(n).encode()) for n in range(60)]
    for envelope in sent:
        sender.send(name, envelope)
    received = []
    for consumer in consumers:
        out, _ = consumer.communicate(timeout=60)
        assert consumer.returncode == 0
        received.append(out.split())
    everything = received[0] + received[1]
    assert sorted(everything) == sorted(e.message_id for e in sent)
    assert min(len(share) for share in received) >= 15, [len(share) for share in received]


def test_request_gets_its_answer_on_the_reply_queue(transports: Callable[..., AmqpTransport],
                                                    queue: Callable[[str], str]) -> None:
    """request() sends with reply-to and correlation-id; the server's answer comes back."""
    requests, replies = queue("sync"), queue("syncreply")
    client, server = transports(), transports()
    client.send(replies, full_envelope(b"stale"))  # an answer to an earlier request

    def answer() -> None:
        delivery = server.receive(requests, timeout=10)
        assert delivery is not None
        asked = delivery.envelope
        assert asked.reply_to == replies
        server.send(asked.reply_to, Envelope(body=b"<svar/>", correlation_id=asked.correlation_id))
        delivery.accept()

    replier = threading.Thread(target=answer)
    replier.start()
    question = Envelope(body="<spørsmål/>".encode(), subject="DIALOG_INNBYGGER_TIMERESERVASJON")
    reply = request(client, requests, question, reply_queue=replies, timeout=10)
    replier.join()
    assert reply is not None
    assert reply.body == b"<svar/>"
    assert reply.correlation_id == question.message_id


def test_sending_to_a_missing_queue_is_refused_clearly(
        transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """RabbitMQ would drop it silently; the transport refuses, and other queues still work."""
    transport, name = transports(), queue("exists")
    missing = f"digidialog_test_{uuid.uuid4().hex[:12]}_missing"
    with pytest.raises(NoSuchQueue, match=f"no queue at '/amq/queue/{missing}'.*declare"):
        transport.send(missing, full_envelope())
    with pytest.raises(NoSuchQueue, match=missing):
        transport.receive(missing, timeout=1)
    transport.send(name, full_envelope(b"fine"))
    delivery = transport.receive(name, timeout=5)
    assert delivery is not None
    delivery.accept()


def test_declare_queues_declares_the_missing_ones_durable(
        transports: Callable[..., AmqpTransport]) -> None:
    """Missing queues are declared durable; existing ones are left alone."""
    names = [f"digidialog_test_{uuid.uuid4().hex[:12]}_{role}" for role in ("async", "sync")]
    transport = transports()
    try:
        assert transport.declare_queues(names) == names
        assert transport.declare_queues(names) == []
        listing = rabbitmqctl("list_queues", "name", "durable", "auto_delete", "exclusive")
        rows = {line.split()[0]: line.split()[1:] for line in listing.splitlines() if line}
        for name in names:
            assert rows[name] == ["true", "false", "false"]
    finally:
        for name in names:
            subprocess.run([RABBITMQCTL or "rabbitmqctl", "-q", "delete_queue", name],
                           capture_output=True, check=False, timeout=60)


def test_a_message_the_broker_rejects_is_transport_unavailable(
        transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """A full queue that refuses publishes (policy reject-publish) is not a silent success.

    RabbitMQ 3.10's AMQP 1.0 plugin does not even answer *rejected* here: its
    session crashes on the publisher nack and the connection is aborted. Either
    way the sender hears ``TransportUnavailable`` and keeps the message.
    """
    transport, name = transports(), queue("full")
    policy = f"{name}_full"
    rabbitmqctl("set_policy", "--apply-to", "queues", policy, f"^{name}$",
                '{"max-length": 1, "overflow": "reject-publish"}')
    try:
        deadline = time.monotonic() + 10
        transport.send(name, full_envelope(b"fits"))
        with pytest.raises(TransportUnavailable):  # noqa: PT012 - the policy applies with a lag
            while time.monotonic() < deadline:
                transport.send(name, full_envelope(b"does not fit"))
                time.sleep(0.1)
    finally:
        rabbitmqctl("clear_policy", policy)


def test_the_next_call_reconnects_after_the_connection_drops(
        url: str, transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """Cut underneath: unsettled deliveries return to the queue, and the next call reconnects."""
    name = queue("drop")
    proxy = TcpProxy.to(url)
    try:
        transport = transports(proxy.url(url))
        transport.send(name, full_envelope(b"in flight"))
        held = transport.receive(name, timeout=5)
        assert held is not None
        proxy.cut()
        transport.send(name, full_envelope(b"after the drop"))  # reconnects by itself
        with pytest.raises(TransportUnavailable, match="delivers it again"):
            held.accept()
        bodies = []
        while (delivery := transport.receive(name, timeout=2)) is not None:
            bodies.append((delivery.envelope.body, delivery.redelivered))
            delivery.accept()
        assert sorted(bodies) == [(b"after the drop", False), (b"in flight", True)]
    finally:
        proxy.close()


def test_an_unreachable_broker_fails_fast_with_backoff_then_recovers(
        url: str, transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """While the broker is down calls fail fast with retry_after; once it is back, work resumes."""
    name = queue("down")
    proxy = TcpProxy.to(url)
    try:
        transport = transports(proxy.url(url), max_backoff=1.0)
        transport.send(name, full_envelope(b"before"))
        proxy.refuse()
        proxy.cut()
        with pytest.raises(TransportUnavailable):
            transport.send(name, full_envelope(b"lost?"))
        started = time.monotonic()
        with pytest.raises(TransportUnavailable, match="next attempt") as refused:
            transport.receive(name, timeout=5)
        assert time.monotonic() - started < 0.5
        assert refused.value.retry_after is not None and refused.value.retry_after > 0
        proxy.accept_again()
        time.sleep(refused.value.retry_after)
        delivery = transport.receive(name, timeout=5)  # a "broker restart" is over
        assert delivery is not None
        assert delivery.envelope.body == b"before"
        delivery.accept()
    finally:
        proxy.close()


@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("DIGIDIALOG_TEST_BROKER_EXCLUSIVE") == "1"),
    reason="closes every connection on the broker; runs in CI, or with "
           "DIGIDIALOG_TEST_BROKER_EXCLUSIVE=1 where no one else uses the broker",
)
def test_receiving_recovers_after_rabbitmqctl_close_all_connections(
        transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """RabbitMQ 3.10 closes the sessions behind consumers; receiving works again."""
    name = queue("closeall")
    receiver, sender = transports(idle_relink=0.5), transports()
    assert receiver.receive(name, timeout=0.2) is None  # attached and waiting
    rabbitmqctl("close_all_connections", "digidialog transport test")
    sender.send(name, full_envelope(b"after close_all_connections"))
    delivery = receiver.receive(name, timeout=10)
    assert delivery is not None
    assert delivery.envelope.body == b"after close_all_connections"
    delivery.accept()


def test_a_receiver_link_silent_for_idle_relink_seconds_is_attached_afresh(
        transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """A quiet link holding nothing is renewed (RabbitMQ 3.10 can lose a session silently)."""
    name = queue("relink")
    transport = transports(idle_relink=0.3)
    assert transport.receive(name, timeout=0) is None
    connection = transport._keeper.current
    assert connection is not None
    first = connection.inlets[transport.address(name)]
    assert transport.receive(name, timeout=1.0) is None
    renewed = connection.inlets[transport.address(name)]
    assert renewed is not first
    assert first.link.state & first.link.LOCAL_CLOSED
    transport.send(name, full_envelope(b"still delivered"))
    delivery = transport.receive(name, timeout=5)
    assert delivery is not None
    delivery.accept()


def test_one_transport_shared_by_threads_lets_a_sender_past_a_waiting_receiver(
        transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """A thread blocked in receive() does not hold up another thread's sends."""
    idle, busy = queue("idle"), queue("busy")
    transport = transports()
    transport.send(busy, full_envelope(b"warm up"))  # connected and the sender link made
    waiting = threading.Thread(target=lambda: transport.receive(idle, timeout=3))
    waiting.start()
    time.sleep(0.2)
    started = time.monotonic()
    for number in range(20):
        transport.send(busy, full_envelope(str(number).encode()))
    elapsed = time.monotonic() - started
    waiting.join()
    assert elapsed < 2.0
    count = 0
    while (delivery := transport.receive(busy, timeout=1)) is not None:
        delivery.accept()
        count += 1
    assert count == 21


def test_a_closed_transport_refuses_further_calls(
        transports: Callable[..., AmqpTransport], queue: Callable[[str], str]) -> None:
    """close() is final: a transport does not quietly reconnect after it."""
    transport, name = transports(), queue("closed")
    transport.send(name, full_envelope())
    transport.close()
    with pytest.raises(TransportUnavailable, match="closed"):
        transport.send(name, full_envelope())


def test_a_queue_that_exists_with_other_settings_is_a_fatal_error(
        url: str, transports: Callable[..., AmqpTransport]) -> None:
    """Declaring over a non-durable queue of the same name says why, and is not retried."""
    name = f"digidialog_test_{uuid.uuid4().hex[:12]}_transient"
    raw = BrokerConnection(url, timeout=5, heartbeat=None, container_id="transient-test")
    try:
        raw.close_link(raw.open_sender(f"/queue/{name}"))  # declared non-durable
        with pytest.raises(FatalError, match="other settings"):
            raw.open_sender(f"/queue/{name}", declare_durable=True)
    finally:
        raw.close()
        if RABBITMQCTL is not None:
            subprocess.run([RABBITMQCTL, "-q", "delete_queue", name], capture_output=True,
                           check=False, timeout=60)


def test_the_bare_consumer_benchmark_measures_a_rate(url: str) -> None:
    """benchmarks.bare_consumer drains its own fresh queue and reports messages per second."""
    assert bare_consumer_rate(url, 20) > 0


def test_a_send_after_a_quiet_spell_arrives_once(transports: Callable[..., AmqpTransport],
                                                 queue: Callable[[str], str]) -> None:
    """A connection that died of its idle timeout while unused is replaced before the send,
    not after it: the message is not written to the dead one and sent again."""
    name = queue("quiet")
    sender = transports(heartbeat=1.0)
    sender.send(name, full_envelope(b"m1"))
    time.sleep(4.0)
    sender.send(name, full_envelope(b"m2"))
    receiver = transports()
    bodies = []
    while (delivery := receiver.receive(name, timeout=1.0)) is not None:
        bodies.append(delivery.envelope.body)
        delivery.accept()
    assert bodies == [b"m1", b"m2"]
