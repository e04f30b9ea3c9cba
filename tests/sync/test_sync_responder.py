"""The sync queue's responder: answered on reply-to with the correlation-id, settled after,
unusable requests reported on the sender's error queue, our own failures answered 31.

Over the in-memory broker, with a real SQLite store and the real codec; the
EPJ adapter is a tripwire (nothing here may call the EPJ).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from digidialog.adapters.contract import EpjAdapter
from digidialog.domain import Appointment, AppointmentStatus
from digidialog.errors import StoreUnavailable, TransportUnavailable
from digidialog.helsenorge import Function, PortalMessage, decode, encode
from digidialog.store import RosterService, Store
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.responder import SyncResponder
from digidialog.testing.portal import build
from digidialog.transport import Envelope, error_queue, sync_queue, syncreply_queue
from digidialog.transport.amqp_errors import NoSuchQueue
from digidialog.transport.memory import MemoryBroker, MemoryTransport

MUNICIPALITY, SERVICE, PORTAL = "2000001", "2000002", "100000"
CITIZEN = "13116900216"
NOW = datetime(2026, 5, 4, 8, tzinfo=UTC)
REPLY_QUEUE = "100000_portal-frontend-7"


class NoEpj:
    """An adapter that fails the test if anything of it is used."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the EPJ was asked ({name}) while answering synchronously")


class Broken(MemoryTransport):
    """A client whose sends to some queues fail as the broker would."""

    def __init__(self, broker: MemoryBroker, failures: dict[str, Exception]) -> None:
        super().__init__(broker)
        self.failures = failures

    def send(self, queue: str, envelope: Envelope) -> None:
        """Fail for the queues named in ``failures``."""
        if queue in self.failures:
            raise self.failures[queue]
        super().send(queue, envelope)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The citizen receives the open service and has one assigned visit."""
    opened = Store.open(f"sqlite:///{tmp_path / 'sync.db'}")
    with opened.transaction() as conn:
        opened.roster.put_services(conn, MUNICIPALITY,
                                   [RosterService("HSP", "Hjemmesykepleie", True)], NOW)
        opened.roster.put_recipients(conn, MUNICIPALITY, "HSP", [CITIZEN], NOW)
        opened.appointments.put(conn, MUNICIPALITY, CITIZEN, Appointment(
            uid="besok-1", status=AppointmentStatus.ASSIGNED,
            start=datetime(2026, 5, 5, 8, tzinfo=UTC), end=datetime(2026, 5, 5, 9, tzinfo=UTC),
            service_id="HSP", employees=("Ola Pleier",)), changed_at=NOW)
    yield opened
    opened.close()


@pytest.fixture
def broker() -> MemoryBroker:
    """The queues of the test."""
    return MemoryBroker()


def responder(store: Store, transport: MemoryTransport) -> SyncResponder:
    """The municipality's responder over ``transport``."""
    municipality = Municipality(
        name="Eksempel kommune", her_id=MUNICIPALITY, vendor="gerica",
        adapter=cast(EpjAdapter, NoEpj()), routes=(ServiceRoute("HSP", "9", SERVICE),),
        portal_her_id=PORTAL)
    return SyncResponder(store, municipality, transport, clock=lambda: NOW)


def request_message(service: str | None = SERVICE) -> PortalMessage:
    """HentPlanlagteTimer from the portal."""
    return build.planned_appointments_request(
        build.portal_party(PORTAL, "100001"), build.municipal_party(MUNICIPALITY, service),
        CITIZEN, NOW)


def envelope(body: bytes, **fields: Any) -> Envelope:
    """The AMQP envelope Helsenorge puts on the sync queue."""
    values: dict[str, Any] = {"subject": "DIALOG_INNBYGGER_TIMERESERVASJON",
                              "from_her_id": PORTAL, "to_her_id": MUNICIPALITY,
                              "cpa_id": "cpa-1", "reply_to": REPLY_QUEUE,
                              "application_timestamp": NOW}
    values.update(fields)
    made = Envelope(body=body, **values)
    return replace(made, correlation_id=fields.get("correlation_id", made.message_id))


def take(broker: MemoryBroker, queue: str) -> Envelope:
    """The one message waiting on ``queue``."""
    delivery = broker.connect().receive(queue, timeout=0)
    assert delivery is not None, f"nothing on {queue}"
    delivery.accept()
    assert broker.depth(queue) == 0
    return delivery.envelope


def test_the_answer_goes_to_reply_to_with_the_correlation_id_and_the_request_is_settled(
        store: Store, broker: MemoryBroker) -> None:
    """01 on reply-to, correlated, with the properties Helsenorge reads; nothing else sent,
    no AppRec asked for, the request gone from the sync queue."""
    request = request_message()
    sent = envelope(encode(request))
    broker.connect().send(sync_queue(MUNICIPALITY), sent)
    assert responder(store, broker.connect()).answer_one(timeout=0)
    reply = take(broker, REPLY_QUEUE)
    answer = decode(reply.body)
    assert (answer.function, answer.code, answer.ack) == (
        Function.PLANNED_APPOINTMENTS_REPLY, "01", False)
    assert [a.uid for a in answer.appointments] == ["besok-1"]
    assert answer.conversation is not None and answer.conversation.parent == request.msg_id
    assert reply.correlation_id == sent.message_id
    assert (reply.subject, reply.from_her_id, reply.to_her_id, reply.cpa_id) == (
        "DIALOG_INNBYGGER_TIMERESERVASJON", SERVICE, PORTAL, "cpa-1")
    assert reply.message_id == answer.msg_id and reply.application_timestamp is not None
    assert broker.depth(sync_queue(MUNICIPALITY)) == 0
    assert broker.depth(error_queue(PORTAL)) == 0


def test_without_reply_to_the_answer_goes_to_the_portals_syncreply_queue(
        store: Store, broker: MemoryBroker) -> None:
    """No reply-to: ``<portal>_syncreply``; no correlation-id: the request's message-id."""
    sent = replace(envelope(encode(request_message(None))), reply_to=None, correlation_id=None)
    broker.connect().send(sync_queue(MUNICIPALITY), sent)
    assert responder(store, broker.connect()).answer_one(timeout=0)
    reply = take(broker, syncreply_queue(PORTAL))
    assert reply.correlation_id == sent.message_id
    assert reply.from_her_id == MUNICIPALITY  # the request named the municipality alone
    assert decode(reply.body).code == "01"


def test_nothing_waiting_is_no_work(store: Store, broker: MemoryBroker) -> None:
    """An empty queue: False, nothing sent."""
    assert not responder(store, broker.connect()).answer_one(timeout=0)


def citizen_message() -> bytes:
    """A citizen's message (HE), which belongs on the async queue."""
    return encode(build.citizen_message(
        build.portal_party(PORTAL, "100001"), build.municipal_party(MUNICIPALITY, SERVICE),
        CITIZEN, NOW, subject="Spørsmål", body="Når kommer dere?"))


@pytest.mark.parametrize(("body", "fields", "condition"), [
    (b"<MsgHead><unclosed>", {}, "transport:not-well-formed-xml"),
    (b"<MsgHead xmlns='http://www.kith.no/xmlstds/msghead/2006-05-24'/>", {},
     "transport:invalid-field-value"),
    (None, {}, "transport:unsupported-message"),
    (b"", {"from_her_id": "999999"}, "transport:invalid-field-value"),
    (b"", {"to_her_id": "999999"}, "transport:invalid-field-value"),
    (b"", {"reply_to": "/exchange/amq.topic/elsewhere"}, "transport:invalid-field-value"),
], ids=["not-well-formed", "invalid", "not-synchronous", "from-her-id", "to-her-id",
        "reply-to-address"])
def test_an_unusable_request_is_reported_on_the_senders_error_queue(
        store: Store, broker: MemoryBroker, body: bytes | None, fields: dict[str, str],
        condition: str) -> None:
    """Reported with its condition and the original's message-id, never its body; no answer;
    the request settled. (``b""`` stands for a valid request, ``None`` for a citizen's
    message.)"""
    if body is None:
        body = citizen_message()
    elif body == b"":
        body = encode(request_message())
    sender = fields.get("from_her_id", PORTAL)
    sent = envelope(body, **fields)
    broker.connect().send(sync_queue(MUNICIPALITY), sent)
    assert responder(store, broker.connect()).answer_one(timeout=0)
    report = take(broker, error_queue(sender))
    assert report.properties["errorCondition"] == condition
    assert report.properties["originalMessageId"] == sent.message_id
    assert report.body == b"" and (report.from_her_id, report.to_her_id) == (MUNICIPALITY, sender)
    assert broker.depth(REPLY_QUEUE) == 0 and broker.depth(sync_queue(MUNICIPALITY)) == 0


def test_garbage_from_nobody_is_dropped_without_stopping(store: Store,
                                                         broker: MemoryBroker) -> None:
    """No fromHerId (or one that is no HER-id): nothing to report to; settled, nothing sent."""
    for sender in (None, "../100000"):
        broker.connect().send(sync_queue(MUNICIPALITY), envelope(b"\x00garbage",
                                                                 from_her_id=sender))
        assert responder(store, broker.connect()).answer_one(timeout=0)
    assert broker.depth(sync_queue(MUNICIPALITY)) == 0
    assert broker.depth(REPLY_QUEUE) == 0 and broker.depth(error_queue(PORTAL)) == 0


def test_the_store_away_is_answered_31_at_once(store: Store, broker: MemoryBroker,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The citizen is told at once (31, a general error) instead of waiting for the timeout."""
    def unavailable(*_: object, **__: object) -> None:
        raise StoreUnavailable("the database is not answering")

    monkeypatch.setattr(store.appointments, "of_citizen", unavailable)
    broker.connect().send(sync_queue(MUNICIPALITY), envelope(encode(request_message())))
    assert responder(store, broker.connect()).answer_one(timeout=0)
    answer = decode(take(broker, REPLY_QUEUE).body)
    assert (answer.function, answer.code, answer.ack) == (Function.REFUSAL, "31", False)


def test_a_fault_of_ours_is_answered_31_and_the_responder_goes_on(
        store: Store, broker: MemoryBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug while answering is no crash: 31, and the next request is answered normally."""
    transport = broker.connect()
    answering = responder(store, transport)
    original = answering.planned.visits

    def broken(*_: object, **__: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(answering.planned, "visits", broken)
    broker.connect().send(sync_queue(MUNICIPALITY), envelope(encode(request_message())))
    assert answering.answer_one(timeout=0)
    assert decode(take(broker, REPLY_QUEUE).body).code == "31"
    monkeypatch.setattr(answering.planned, "visits", original)
    broker.connect().send(sync_queue(MUNICIPALITY), envelope(encode(request_message())))
    assert answering.answer_one(timeout=0)
    assert decode(take(broker, REPLY_QUEUE).body).code == "01"


def test_a_request_no_answer_can_be_made_for_is_settled_and_the_next_answered(
        store: Store, broker: MemoryBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even the 31 fails: logged, settled (no poison message), and the loop goes on."""
    transport = broker.connect()
    answering = responder(store, transport)

    def broken(*_: object, **__: object) -> None:
        raise KeyError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr(answering.planned, "visits", broken)
        patch.setattr(answering.planned, "general_error", broken)
        broker.connect().send(sync_queue(MUNICIPALITY), envelope(encode(request_message())))
        assert answering.answer_one(timeout=0)
    assert broker.depth(sync_queue(MUNICIPALITY)) == 0 and broker.depth(REPLY_QUEUE) == 0
    broker.connect().send(sync_queue(MUNICIPALITY), envelope(encode(request_message())))
    assert answering.answer_one(timeout=0)
    assert decode(take(broker, REPLY_QUEUE).body).code == "01"


def test_an_answer_that_cannot_be_sent_hands_the_request_back(store: Store,
                                                               broker: MemoryBroker) -> None:
    """The broker refuses the answer: the request goes back on the queue (settled only after
    the answer is sent) and is answered by the next try."""
    broker.connect().send(sync_queue(MUNICIPALITY), envelope(encode(request_message())))
    failing = Broken(broker, {REPLY_QUEUE: TransportUnavailable("the broker is away")})
    with pytest.raises(TransportUnavailable):
        responder(store, failing).answer_one(timeout=0)
    assert broker.depth(sync_queue(MUNICIPALITY)) == 1 and broker.depth(REPLY_QUEUE) == 0
    assert responder(store, broker.connect()).answer_one(timeout=0)
    assert decode(take(broker, REPLY_QUEUE).body).code == "01"


def test_a_reply_queue_that_does_not_exist_drops_the_answer(store: Store,
                                                            broker: MemoryBroker) -> None:
    """Nobody can hear an answer to a queue the broker does not have: the request is settled
    rather than retried for ever."""
    broker.connect().send(sync_queue(MUNICIPALITY), envelope(encode(request_message())))
    missing = Broken(broker, {REPLY_QUEUE: NoSuchQueue("no queue")})
    assert responder(store, missing).answer_one(timeout=0)
    assert broker.depth(sync_queue(MUNICIPALITY)) == 0
