"""What the portal simulator does with what the engine sends: answers, records, checks."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from digidialog.domain import CancellationOutcome, ReceiptStatus
from digidialog.helsenorge import decode
from digidialog.helsenorge.message import Conversation, Function
from digidialog.helsenorge.processes import Process
from digidialog.testing.portal import PortalSimulator
from digidialog.transport.base import APPREC_SUBJECT, Envelope, async_queue

from ._engine import CITIZEN, MUNICIPALITY, OTHER_CITIZEN, PORTAL, FakeEngine
from ._loopback import LoopbackTransport


def _rules(portal: PortalSimulator) -> list[str]:
    return [v.rule for v in portal.violations()]


def test_a_clean_conversation_has_no_violations(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """HE, its AppRec, a 19 and its AppRec, a 22 and its AppRec, in the background: every
    receipt is collected, every message is recorded in one thread, nothing is wrong."""
    with portal:
        question = portal.send_citizen_message(MUNICIPALITY, "1000002", CITIZEN)
        _, he = engine.take()
        engine.send(engine.receipt(he))
        answer = engine.reply(he)
        engine.send(answer)
        [got] = portal.wait_for(function=Function.SERVICE_REPLY, thread=question.msg_id)
        _, apprec = engine.take()
        reply = portal.send_citizen_reply(got)
        _, twenty_two = engine.take()
        engine.send(engine.receipt(twenty_two))
        assert portal.wait_for_receipt(reply.msg_id or "").message.receipt is not None
    assert apprec.receipt is not None and apprec.receipt.original_msg_id == answer.msg_id
    [receipt] = portal.receipts_for(question.msg_id or "")
    assert receipt.message.receipt is not None
    assert receipt.message.receipt.status is ReceiptStatus.OK
    thread = portal.threads()[question.msg_id or ""]
    assert (thread.municipality, thread.service, thread.citizen_id) == (
        MUNICIPALITY, "1000002", CITIZEN.id)
    assert [e.direction for e in thread.entries] == [
        "to_municipality", "to_portal", "to_municipality"]
    assert portal.violations() == []
    portal.assert_no_violations()


def test_a_message_asking_for_it_gets_an_ok_apprec(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """The AppRec goes to M_async, subject APPREC, from the portal to M, about the message."""
    notice = engine.new_thread()
    engine.send(notice)
    assert portal.pump(1.0) == 1
    envelope, apprec = engine.take()
    assert (envelope.subject, envelope.from_her_id, envelope.to_her_id) == (
        APPREC_SUBJECT, PORTAL, MUNICIPALITY)
    assert apprec.receipt is not None and apprec.receipt.status is ReceiptStatus.OK
    assert apprec.receipt.original_msg_id == notice.msg_id
    assert apprec.receipt.original_process == notice.process
    assert apprec.receiver.her_ids == (MUNICIPALITY, "1000002")
    [received] = portal.received()
    assert received.answer is not None and received.answer.msg_id == apprec.msg_id
    assert portal.violations() == []


def test_a_citizen_who_is_not_digitally_active_gets_e35(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """Configured per citizen: rejected with E35; other citizens still OK; OK again once
    the citizen is accepted."""
    portal.answers.reject_citizen(CITIZEN.id)
    engine.send(engine.new_thread(CITIZEN))
    engine.send(engine.new_thread(OTHER_CITIZEN))
    portal.pump(1.0)
    _, first = engine.take()
    _, second = engine.take()
    assert first.receipt is not None and first.receipt.status is ReceiptStatus.REJECTED
    assert [e.code for e in first.receipt.errors] == ["E35"]
    assert first.receipt.citizen_not_active
    assert second.receipt is not None and second.receipt.status is ReceiptStatus.OK
    portal.answers.accept_citizen(CITIZEN.id)
    engine.send(engine.new_thread(CITIZEN))
    portal.pump(1.0)
    _, third = engine.take()
    assert third.receipt is not None and third.receipt.status is ReceiptStatus.OK


def test_answers_can_be_set_per_message_and_withheld(
    portal: PortalSimulator, engine: FakeEngine, transport: LoopbackTransport
) -> None:
    """A chosen message is rejected with a chosen code; a counted rule runs out; a
    withheld receipt is simply not sent."""
    rejected, withheld, later = (engine.new_thread() for _ in range(3))
    portal.answers.reject_message(rejected.msg_id, "E21")
    portal.answers.withhold_when(lambda m: m.function is Function.SERVICE_MESSAGE, times=1)
    engine.send(withheld)
    engine.send(rejected)
    engine.send(later)
    portal.pump(1.0)
    _, first = engine.take()
    _, second = engine.take()
    assert transport.depth(async_queue(MUNICIPALITY)) == 0
    assert first.receipt is not None and first.receipt.original_msg_id == rejected.msg_id
    assert [e.code for e in first.receipt.errors] == ["E21"]
    assert second.receipt is not None and second.receipt.original_msg_id == later.msg_id
    assert second.receipt.status is ReceiptStatus.OK
    assert [r.answer is None for r in portal.received()] == [True, False, False]


def test_a_reply_with_broken_refs_is_a_violation(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """Parent and root pointing at nothing the portal knows, a parent from another thread,
    a root that is not a first message, an answer with no refs, another citizen."""
    portal.send_citizen_message(MUNICIPALITY, "1000002", CITIZEN)
    second = portal.send_citizen_message(MUNICIPALITY, "1000002", CITIZEN)
    _, he1 = engine.take()
    _, he2 = engine.take()
    nowhere = str(uuid.uuid4())
    engine.send(engine.reply(he1, parent=nowhere, root=nowhere))
    engine.send(engine.reply(he1, parent=he2.msg_id))
    answer = engine.reply(he1)
    engine.send(answer)
    engine.send(engine.reply(he1, root=answer.msg_id))
    engine.send(engine.reply(he1).model_copy(update={"conversation": None}))
    engine.send(engine.reply(he1, patient=OTHER_CITIZEN))
    portal.pump(1.0)
    details = [v.detail for v in portal.violations()]
    assert set(_rules(portal)) == {"conversation"}
    assert any(f"RefToConversation {nowhere} is no message" in d for d in details)
    assert any(f"RefToParent {nowhere} is no message" in d for d in details)
    assert any(f"RefToParent {he2.msg_id} belongs to thread {second.msg_id}" in d
               for d in details)
    assert any(f"RefToConversation {answer.msg_id} is not the first message" in d
               for d in details)
    assert any("service_reply answers nothing" in d for d in details)
    assert any("another citizen" in d for d in details)
    # Recorded anyway, and answered: the checks never stop the flow.
    assert len(portal.received(function=Function.SERVICE_REPLY)) == 6


def test_mismatched_her_ids_are_a_violation(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """fromHerId not the MsgHead sender's, toHerId not the portal, a MsgHead addressed to
    someone else, a wrong subject, missing properties: each named."""
    engine.send(engine.new_thread(), from_her_id="9999999")
    engine.send(engine.new_thread(), to_her_id="123456")
    stranger = engine.new_thread().model_copy(update={"receiver": engine.party})
    engine.send(stranger)
    engine.send(engine.new_thread(), subject="DIALOG_INNBYGGER_DIGITALBRUKER")
    engine.send(engine.new_thread(), application_timestamp=None, cpa_id=None, from_her_id=None)
    portal.pump(1.0)
    details = [str(v) for v in portal.violations()]
    assert set(_rules(portal)) == {"her-ids", "subject", "properties"}
    assert any("fromHerId 9999999 is not a HER-id of the sender 1000001/1000002" in d
               for d in details)
    assert any("toHerId 123456 is not the portal's 100000" in d for d in details)
    assert any("receiver 1000001/1000002 is not the portal" in d for d in details)
    assert any("AMQP subject 'DIALOG_INNBYGGER_DIGITALBRUKER'" in d for d in details)
    assert any("missing AMQP properties: fromHerId, applicationTimeStamp" in d for d in details)


def test_an_apprec_about_nothing_the_portal_sent_is_a_violation(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """Receipts are matched to what the simulator sent: a stray one, one naming the wrong
    process and one for a message that asked for none (the portal's own AppRec) are named."""
    sent = portal.send_citizen_message(MUNICIPALITY, "1000002", CITIZEN)
    _, he = engine.take()
    engine.send(engine.receipt(he))
    stray = str(uuid.uuid4())
    engine.send(engine.receipt(he, about=stray))
    wrong = engine.receipt(he)
    assert wrong.receipt is not None
    engine.send(wrong.model_copy(update={"receipt": wrong.receipt.model_copy(
        update={"original_process": "DIALOG_INNBYGGER_DIGITALBRUKER"})}))
    notice = engine.new_thread()
    engine.send(notice)
    portal.pump(1.0)
    _, portals_apprec = engine.take()
    engine.send(engine.receipt(portals_apprec))
    portal.pump(1.0)
    assert [v.detail for v in portal.violations()] == [
        f"AppRec for {stray}, which the portal never sent",
        "AppRec names process 'DIALOG_INNBYGGER_DIGITALBRUKER' for a DIALOG_INNBYGGER_EKONTAKT "
        "message",
        f"AppRec for {portals_apprec.msg_id}, which asked for none",
    ]
    assert len(portal.receipts_for(sent.msg_id or "")) == 2
    assert len(portal.receipts_for(stray)) == 1


def test_undecodable_bytes_are_a_violation_and_receiving_goes_on(
    portal: PortalSimulator, engine: FakeEngine, transport: LoopbackTransport
) -> None:
    """Not XML, and a hostile DOCTYPE: recorded with the AppRec code, never raised; the
    background thread handles the next message."""
    properties = {"subject": "DIALOG_INNBYGGER_EKONTAKT", "from_her_id": MUNICIPALITY,
                  "to_her_id": PORTAL, "application_timestamp": datetime.now(UTC)}
    with portal:
        transport.send(async_queue(PORTAL), Envelope(body=b"not xml", **properties))
        transport.send(async_queue(PORTAL), Envelope(
            body=b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", **properties))
        notice = engine.new_thread()
        engine.send(notice)
        portal.wait_for(function=Function.SERVICE_MESSAGE)
    undecodable = [v for v in portal.violations() if v.rule == "undecodable"]
    assert [v.detail[:4] for v in undecodable] == ["T01:", "T01:"]
    assert [r.msg_id for r in portal.received()] == [notice.msg_id]


def test_a_duplicate_is_recorded_and_answered_again(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """At least once: the same MsgId twice is marked duplicate and acknowledged twice."""
    notice = engine.new_thread()
    engine.send(notice)
    engine.send(notice)
    portal.pump(1.0)
    assert [r.duplicate for r in portal.received()] == [False, True]
    assert [decode(engine.take()[0].body).function for _ in range(2)] == [Function.RECEIPT] * 2
    assert len(portal.threads()[notice.msg_id].entries) == 1


def test_error_queue_reports_are_collected(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """A report on the portal's _error queue names its condition and the envelope it is
    about; one without errorCondition is a violation."""
    sent = portal.send_raw(MUNICIPALITY, b"garbage")
    envelope = engine.transport.receive(async_queue(MUNICIPALITY), 1.0)
    assert envelope is not None
    envelope.accept()
    engine.report_error(envelope.envelope, "transport:not-well-formed-xml")
    engine.report_error(envelope.envelope, None)
    reports = portal.wait_for_errors(2, timeout=2.0)
    assert [r.condition for r in reports] == ["transport:not-well-formed-xml", None]
    assert reports[0].about == sent and reports[0].description == "cannot read it"
    assert _rules(portal) == ["error-report"]


def test_wait_for_names_what_arrived_without_content(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """A failed wait lists each arrival by function, code, MsgId and HER-id; no national
    id, name or text of the message."""
    notice = engine.new_thread()
    engine.send(notice)
    start = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        portal.wait_for(function=Function.SERVICE_REPLY, timeout=0.3)
    assert time.monotonic() - start < 2
    text = str(failure.value)
    assert "waited 0.3 s for 1 service_reply; 1 message(s) arrived:" in text
    assert f"service_message (DIALOG_INNBYGGER_EKONTAKT DI) {notice.msg_id}" in text
    for secret in (CITIZEN.id, CITIZEN.family_name, notice.body or "", notice.subject or ""):
        assert secret not in text


def test_wait_for_with_a_predicate_and_a_count(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """Several matches: returned once ``count`` arrived, in order."""
    notices = [engine.new_thread() for _ in range(3)]
    for notice in notices:
        engine.send(notice)
    found = portal.wait_for(lambda r: r.message.code == "DI", count=3)
    assert [r.msg_id for r in found] == [n.msg_id for n in notices]
    assert portal.received(citizen=CITIZEN.id, municipality=MUNICIPALITY, code="DI") == found
    assert portal.received(citizen=OTHER_CITIZEN.id) == []


def test_the_background_thread_stops(portal: PortalSimulator, engine: FakeEngine) -> None:
    """start/stop: nothing is received after stop until pumped."""
    portal.start()
    portal.stop()
    engine.send(engine.new_thread())
    time.sleep(0.2)
    assert portal.received() == []
    assert portal.pump(1.0) == 1


def test_an_answer_to_a_thread_is_checked_against_its_first_message(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """A 13 closing the engine's own DI thread is fine; from another municipality it is not."""
    opening = engine.new_thread()
    engine.send(opening)
    engine.send(engine.message(Function.THREAD_CLOSED, "13", body="Avsluttet",
                               conversation=Conversation(parent=opening.msg_id,
                                                         root=opening.msg_id)))
    portal.pump(1.0)
    assert portal.violations() == []
    other = engine.party.model_copy(update={"her_ids": ("2000001", "2000002")})
    engine.send(engine.message(Function.THREAD_CLOSED, "13", body="Avsluttet", sender=other,
                               conversation=Conversation(parent=opening.msg_id,
                                                         root=opening.msg_id)),
                from_her_id="2000001")
    portal.pump(1.0)
    assert [v.detail for v in portal.violations()] == [
        "the thread is with 1000001, the answer comes from 2000001"]


def test_an_apprec_about_raw_bytes_is_matched_by_their_msgid(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """Hostile tests send bytes the codec refuses; the engine's negative AppRec about the
    MsgId it could read is an answer, not a stray receipt."""
    valid = portal.send_citizen_message(MUNICIPALITY, "1000002", CITIZEN)
    _, he = engine.take()
    msg_id = str(uuid.uuid4())
    body = valid.envelope.body.replace(he.msg_id.encode(), msg_id.encode()).replace(
        b'V="DIALOG_INNBYGGER_EKONTAKT"', b'V="DIALOG_INNBYGGER_UKJENT"')
    raw = portal.send_raw(MUNICIPALITY, body)
    assert raw.msg_id == msg_id and raw.message is None
    engine.send(engine.receipt(he.model_copy(update={"msg_id": msg_id})))
    assert portal.wait_for_receipt(msg_id).message.receipt is not None
    assert portal.violations() == []


def test_a_failure_inside_the_simulator_is_reported_and_receiving_goes_on(
    portal: PortalSimulator, engine: FakeEngine
) -> None:
    """A test's rule that raises becomes a 'simulator' violation; the delivery is settled
    and the background thread handles the next message."""
    broken = engine.new_thread()

    def explode(message: object) -> bool:
        if getattr(message, "msg_id", None) == broken.msg_id:
            raise RuntimeError("a bug in the test's rule")
        return False

    portal.answers.reject_when(explode, "E21")
    with portal:
        engine.send(broken)
        fine = engine.new_thread()
        engine.send(fine)
        portal.wait_for(lambda r: r.msg_id == fine.msg_id)
    assert [(v.rule, v.detail) for v in portal.violations()] == [
        ("simulator", "could not handle: RuntimeError: a bug in the test's rule")]


def test_no_apprec_asked_and_quirks_written_are_violations(
    portal: PortalSimulator, engine: FakeEngine, transport: LoopbackTransport
) -> None:
    """An asynchronous message without Ack J, and a message the codec had to repair (the
    misspelt Type of the official examples), which digidialog must never write."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    request = portal.send_cancellation(MUNICIPALITY, "1000002", CITIZEN, uid="besok-1",
                                       start=start, end=start)
    _, art = engine.take()
    accepted = engine.message(
        Function.CANCELLATION_REPLY, "08", process=Process.AVTALEAVBESTILLING,
        decision=CancellationOutcome.ACCEPTED,
        conversation=Conversation(parent=art.msg_id, root=art.msg_id))
    envelope = engine.send(accepted)
    transport.take_all(async_queue(PORTAL))
    engine.send(engine.new_thread().model_copy(update={"ack": False}))
    transport.send(async_queue(PORTAL), replace(envelope, body=envelope.body.replace(
        b'V="DIALOG_INNBYGGER_AVTALEAVBESTILLING"', b'V="DIALOG_INNBYGGER_AVTALEBESTILLING"')))
    portal.pump(1.0)
    assert [v.rule for v in portal.violations()] == ["ack", "quirks"]
    assert "misspelt" in portal.violations()[1].detail
    [reply] = portal.received(function=Function.CANCELLATION_REPLY)
    assert reply.thread == request.msg_id
