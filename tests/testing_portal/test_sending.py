"""What the portal simulator sends: valid messages, Helsenorge's properties, the right refs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from digidialog.domain import CancellationKind, DigitalStatus, Relation
from digidialog.domain.timezone import OSLO
from digidialog.errors import SchemaViolation
from digidialog.helsenorge import decode
from digidialog.helsenorge.message import Function, PortalMessage, Representative
from digidialog.helsenorge.processes import Process
from digidialog.testing.portal import PortalSimulator, Sent
from digidialog.transport.base import Envelope, async_queue

from ._engine import CITIZEN, MUNICIPALITY, PORTAL, SERVICE, FakeEngine
from ._loopback import LoopbackTransport

RELATIVE = Representative(id="15076500565", given_name="Roland", family_name="Gundersen",
                          relation=Relation.FULLMAKT)


def _arrived(transport: LoopbackTransport) -> tuple[Envelope, PortalMessage]:
    """The one envelope on the municipality's async queue, decoded."""
    waiting = transport.take_all(async_queue(MUNICIPALITY))
    assert len(waiting) == 1
    return waiting[0], decode(waiting[0].body)


def _assert_helsenorge_properties(envelope: Envelope, process: str) -> None:
    """subject = process; fromHerId the portal, toHerId the municipality; time and cpaId set."""
    assert envelope.subject == process
    assert envelope.from_her_id == PORTAL
    assert envelope.to_her_id == MUNICIPALITY
    assert envelope.cpa_id and uuid.UUID(envelope.cpa_id)
    assert envelope.application_timestamp is not None
    assert abs((datetime.now(UTC) - envelope.application_timestamp).total_seconds()) < 60


def test_a_citizen_message_is_a_valid_he_to_the_service(
    portal: PortalSimulator, transport: LoopbackTransport,
    official_validate: Callable[[bytes], list[str]],
) -> None:
    """HE from the portal's two levels to municipality and service, on M_async, with
    Helsenorge's AMQP properties; the bytes pass the official schemas too."""
    sent = portal.send_citizen_message(MUNICIPALITY, SERVICE, CITIZEN, subject="Nøkkel",
                                       body="Hvor er nøkkelen?")
    envelope, message = _arrived(transport)
    _assert_helsenorge_properties(envelope, Process.EKONTAKT.value)
    assert official_validate(envelope.body) == []
    assert envelope.body == sent.envelope.body
    assert sent.queue == async_queue(MUNICIPALITY)
    assert (message.function, message.code, message.ack) == (Function.CITIZEN_MESSAGE, "HE", True)
    assert message.msg_id == sent.msg_id and message.conversation is None
    assert message.sender.her_ids == (PORTAL, "100001")
    assert message.receiver.her_ids == (MUNICIPALITY, SERVICE)
    assert message.receiver.names == ("Eksempel kommune", "Hjemmesykepleien")
    assert message.patient == CITIZEN and message.on_behalf_of is None
    assert (message.subject, message.body) == ("Nøkkel", "Hvor er nøkkelen?")
    assert portal.sent() == [sent]


def test_a_citizen_can_be_given_by_national_id_alone(
    portal: PortalSimulator, transport: LoopbackTransport
) -> None:
    """A bare national id becomes a patient with a test person's names."""
    portal.send_citizen_message(MUNICIPALITY, SERVICE, CITIZEN.id)
    _, message = _arrived(transport)
    assert message.patient is not None and message.patient.id == CITIZEN.id


@pytest.mark.parametrize("relation", list(Relation))
def test_a_proxy_message_carries_the_relative_in_pasientrelasjon(
    portal: PortalSimulator, transport: LoopbackTransport, relation: Relation
) -> None:
    """A relative's HE: the citizen stays the Patient, the relative and the relation
    (FU, FO or VE) travel in Pasientrelasjon."""
    proxy = RELATIVE.model_copy(update={"relation": relation})
    sent = portal.send_proxy_message(MUNICIPALITY, SERVICE, CITIZEN, proxy)
    _, message = _arrived(transport)
    assert message.patient == CITIZEN
    assert message.on_behalf_of == proxy
    assert sent.message is not None and sent.message.on_behalf_of == proxy


def test_a_citizen_reply_answers_in_the_thread(
    portal: PortalSimulator, transport: LoopbackTransport, engine: FakeEngine
) -> None:
    """22 after a 19: RefToParent is the 19, RefToConversation the first HE; it goes to the
    service that answered."""
    question = portal.send_citizen_message(MUNICIPALITY, SERVICE, CITIZEN)
    _, he = engine.take()
    answer = engine.reply(he)
    engine.send(answer)
    portal.pump(1.0)
    transport.take_all(async_queue(MUNICIPALITY))  # the AppRec for the 19
    [received] = portal.received(function=Function.SERVICE_REPLY)
    sent = portal.send_citizen_reply(received, body="Flott, takk.")
    envelope, reply = _arrived(transport)
    _assert_helsenorge_properties(envelope, Process.EKONTAKT.value)
    assert (reply.function, reply.code) == (Function.CITIZEN_REPLY, "22")
    assert reply.conversation is not None
    assert reply.conversation.parent == answer.msg_id
    assert reply.conversation.root == question.msg_id
    assert reply.receiver.her_ids == (MUNICIPALITY, SERVICE)
    assert reply.patient == CITIZEN and reply.body == "Flott, takk."
    assert sent.msg_id == reply.msg_id
    assert [e.message.msg_id for e in portal.threads()[question.msg_id or ""].entries] == [
        question.msg_id, answer.msg_id, reply.msg_id]
    portal.assert_no_violations()


def test_a_citizen_reply_to_a_thread_the_service_opened(
    portal: PortalSimulator, transport: LoopbackTransport, engine: FakeEngine
) -> None:
    """22 to a DI, named by MsgId: the DI is parent and root."""
    opening = engine.new_thread()
    engine.send(opening)
    portal.pump(1.0)
    transport.take_all(async_queue(MUNICIPALITY))
    portal.send_citizen_reply(opening.msg_id)
    _, reply = _arrived(transport)
    assert reply.conversation is not None
    assert (reply.conversation.parent, reply.conversation.root) == (opening.msg_id,
                                                                     opening.msg_id)


def test_a_reply_to_an_unknown_message_is_refused(portal: PortalSimulator) -> None:
    """Replying by a MsgId the simulator never saw is a mistake in the test: ValueError."""
    with pytest.raises(ValueError, match="no message"):
        portal.send_citizen_reply(str(uuid.uuid4()))


def test_a_single_cancellation_names_the_visit(
    portal: PortalSimulator, transport: LoopbackTransport
) -> None:
    """ART for one visit: uid, series, times, the service as contact, the reason, a proxy."""
    start = datetime(2026, 3, 2, 8, tzinfo=OSLO)
    end = datetime(2026, 3, 2, 8, 30, tzinfo=OSLO)
    portal.send_cancellation(MUNICIPALITY, SERVICE, CITIZEN, uid="besok-1", series="serie-1",
                             start=start, end=end, reason="Hos lege", on_behalf_of=RELATIVE)
    envelope, message = _arrived(transport)
    _assert_helsenorge_properties(envelope, Process.AVTALEAVBESTILLING.value)
    assert (message.function, message.code) == (Function.CANCELLATION_REQUEST, "ART")
    cancellation = message.cancellation
    assert cancellation is not None and cancellation.kind is CancellationKind.SINGLE
    assert (cancellation.appointment_uid, cancellation.series) == ("besok-1", "serie-1")
    assert (cancellation.start, cancellation.end) == (start, end)
    assert cancellation.contact_her_id == SERVICE and cancellation.reason == "Hos lege"
    assert message.on_behalf_of == RELATIVE


def test_a_period_cancellation_covers_several_services(
    portal: PortalSimulator, transport: LoopbackTransport
) -> None:
    """The project's convention: one ART, a period, several services; also inside
    Timereservasjon (AvbestillAvtale)."""
    start = datetime(2026, 7, 1, 0, tzinfo=OSLO)
    end = datetime(2026, 7, 14, 0, tzinfo=OSLO)
    portal.send_period_cancellation(MUNICIPALITY, SERVICE, CITIZEN, start=start, end=end,
                                    service_ids=["12", "13"], reason="Ferie",
                                    process=Process.TIMERESERVASJON)
    envelope, message = _arrived(transport)
    assert envelope.subject == Process.TIMERESERVASJON.value
    cancellation = message.cancellation
    assert cancellation is not None and cancellation.kind is CancellationKind.PERIOD
    assert cancellation.service_ids == ("12", "13")
    assert (cancellation.start, cancellation.end) == (start, end)


@pytest.mark.parametrize("status", list(DigitalStatus))
def test_a_digital_status_change_is_sdab(
    portal: PortalSimulator, transport: LoopbackTransport, status: DigitalStatus
) -> None:
    """SDAB to the municipality (one level when no service is named)."""
    portal.send_digital_status(MUNICIPALITY, CITIZEN, status)
    envelope, message = _arrived(transport)
    _assert_helsenorge_properties(envelope, Process.DIGITALBRUKER.value)
    assert (message.function, message.code) == (Function.DIGITAL_STATUS_CHANGE, "SDAB")
    assert message.digital_status is status and message.patient == CITIZEN
    assert message.receiver.her_ids == (MUNICIPALITY,)


def test_raw_bytes_go_out_as_they_are_with_chosen_properties(
    portal: PortalSimulator, transport: LoopbackTransport
) -> None:
    """Hostile input: the body is not touched and the properties may lie."""
    body = b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"
    sent = portal.send_raw(MUNICIPALITY, body, from_her_id="666", to_her_id="777",
                           properties={"X-test": "1"})
    [envelope] = transport.take_all(async_queue(MUNICIPALITY))
    assert envelope.body == body and sent.message is None and sent.msg_id is None
    assert (envelope.from_her_id, envelope.to_her_id) == ("666", "777")
    assert envelope.properties == {"X-test": "1"}


def test_a_valid_message_can_be_sent_with_lying_properties(
    portal: PortalSimulator, transport: LoopbackTransport
) -> None:
    """A spoofed fromHerId and a wrong subject on an otherwise valid HE."""
    sent = portal.send_citizen_message(MUNICIPALITY, SERVICE, CITIZEN)
    transport.take_all(async_queue(MUNICIPALITY))
    assert sent.message is not None
    again = sent.message.model_copy(update={"msg_id": str(uuid.uuid4())})
    portal.send_message(again, from_her_id="999999", subject="APPREC")
    envelope, message = _arrived(transport)
    assert (envelope.from_her_id, envelope.subject) == ("999999", "APPREC")
    assert message.msg_id == again.msg_id


def test_nothing_invalid_is_sent(portal: PortalSimulator, transport: LoopbackTransport) -> None:
    """A message the codec refuses (an HE without a patient) raises and leaves no trace."""
    sent: Sent = portal.send_citizen_message(MUNICIPALITY, SERVICE, CITIZEN)
    transport.take_all(async_queue(MUNICIPALITY))
    assert sent.message is not None
    broken = sent.message.model_copy(update={"patient": None, "msg_id": str(uuid.uuid4())})
    with pytest.raises(SchemaViolation):
        portal.send_message(broken)
    assert transport.depth(async_queue(MUNICIPALITY)) == 0
    assert portal.sent() == [sent]
