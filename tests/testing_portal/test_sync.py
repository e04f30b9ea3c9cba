"""HentPlanlagteTimer through the simulator: request/reply on the sync queues."""

from __future__ import annotations

import threading
import time
import uuid

from digidialog.domain import AppointmentStatus
from digidialog.helsenorge import decode
from digidialog.helsenorge.message import Function, PortalMessage
from digidialog.helsenorge.processes import Process
from digidialog.testing.portal import PortalSimulator
from digidialog.transport.base import sync_queue, syncreply_queue

from ._engine import CITIZEN, MUNICIPALITY, PORTAL, SERVICE, FakeEngine
from ._loopback import LoopbackTransport


def _answer_in_background(engine: FakeEngine, **options: object) -> list[PortalMessage]:
    """Let the fake engine answer one request from another thread; the answer lands in the list."""
    answers: list[PortalMessage] = []
    worker = threading.Thread(
        target=lambda: answers.append(engine.answer_planned_appointments(**options)))  # type: ignore[arg-type]
    worker.start()
    return answers


def test_planned_appointments_returns_the_decoded_answer(
    portal: PortalSimulator, engine: FakeEngine, transport: LoopbackTransport
) -> None:
    """HBT on M_sync with reply-to and correlation-id; the 01 answer comes back decoded,
    is recorded and checked, and asks for no AppRec."""
    answers = _answer_in_background(engine)
    reply = portal.planned_appointments(MUNICIPALITY, SERVICE, CITIZEN, timeout=3.0)
    assert reply is not None and answers and reply.msg_id == answers[0].msg_id
    assert (reply.function, reply.code) == (Function.PLANNED_APPOINTMENTS_REPLY, "01")
    assert [a.status for a in reply.appointments] == [AppointmentStatus.ASSIGNED]
    [request] = [s for s in portal.sent() if s.queue == sync_queue(MUNICIPALITY)]
    assert request.envelope.reply_to == syncreply_queue(PORTAL)
    assert request.envelope.correlation_id == request.envelope.message_id
    assert request.envelope.subject == Process.TIMERESERVASJON.value
    assert (request.envelope.from_her_id, request.envelope.to_her_id) == (PORTAL, MUNICIPALITY)
    assert request.message is not None and request.message.code == "HBT"
    assert not request.message.ack and request.message.patient == CITIZEN
    assert decode(request.envelope.body) == request.message
    [received] = portal.received(function=Function.PLANNED_APPOINTMENTS_REPLY)
    assert received.queue == syncreply_queue(PORTAL) and received.answer is None
    assert reply.conversation is not None and reply.conversation.parent == request.msg_id
    assert portal.violations() == []
    assert transport.depth(f"{MUNICIPALITY}_async") == 0


def test_planned_appointments_gives_up_after_the_timeout(portal: PortalSimulator) -> None:
    """Nobody answers: None after the timeout, as the portal gives up after about 8 s."""
    start = time.monotonic()
    assert portal.planned_appointments(MUNICIPALITY, SERVICE, CITIZEN, timeout=0.3) is None
    assert 0.25 < time.monotonic() - start < 2
    assert portal.sync_timeout == 8.0


def test_a_late_answer_is_dropped_and_the_next_request_gets_its_own(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """The answer to a request that timed out does not pass for the next one's."""
    late = _answer_in_background(engine, delay=0.5)
    assert portal.planned_appointments(MUNICIPALITY, SERVICE, CITIZEN, timeout=0.2) is None
    time.sleep(0.6)
    answers = _answer_in_background(engine)
    reply = portal.planned_appointments(MUNICIPALITY, SERVICE, CITIZEN, timeout=3.0)
    assert reply is not None and late and answers
    assert reply.msg_id == answers[0].msg_id != late[0].msg_id


def test_a_synchronous_answer_naming_another_parent_is_a_violation(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """The 01 must answer the request it is correlated with."""
    elsewhere = str(uuid.uuid4())
    _answer_in_background(engine, parent=elsewhere)
    reply = portal.planned_appointments(MUNICIPALITY, SERVICE, CITIZEN, timeout=3.0)
    assert reply is not None
    details = [v.detail for v in portal.violations()]
    assert any(f"names parent {elsewhere}, not the request" in d for d in details)
    assert any(f"RefToParent {elsewhere} is no message" in d for d in details)
