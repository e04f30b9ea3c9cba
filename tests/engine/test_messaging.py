"""Citizen messaging end to end, for every vendor, on both backends.

The portal simulator plays Helsenorge with real messages; the vendor's mock
plays the EPJ; the engine runs its loops in threads as the daemon does.
"""

from __future__ import annotations

from digidialog.domain import Relation
from digidialog.helsenorge import Conversation, Function, PortalMessage, Representative
from digidialog.helsenorge.message import new_msg_id
from digidialog.testing import samples
from tests.engine.world import World, eventually

RELATIVE = Representative(id=samples.RELATIVE.id, given_name="Roland", family_name="Gundersen",
                          relation=Relation.FULLMAKT)


def delivered(world: World, msg_id: str) -> dict[str, object] | None:
    """The message the EPJ holds under our ``msg_id``, if it has arrived."""
    found = [m for m in world.harness.delivered_messages() if m["message_id"] == msg_id]
    assert len(found) <= 1, "the EPJ holds the message more than once"
    return dict(found[0]) if found else None


def test_citizen_and_proxy_messages_reach_the_epj_and_are_acknowledged(running: World) -> None:
    """Each message is stored once in the EPJ, the proxy's "på vegne av", and gets an AppRec OK."""
    world = running
    citizen = world.citizens[0]
    own = world.portal.send_citizen_message(world.municipality, world.service, citizen,
                                            body="Kan dere komme etter ti i morgen?")
    proxy = world.portal.send_proxy_message(world.municipality, world.service, citizen, RELATIVE)
    for sent in (own, proxy):
        receipt = world.portal.wait_for_receipt(sent.msg_id, timeout=15)
        assert receipt.message.receipt is not None
        assert receipt.message.receipt.status.value == "ok"
    mine = eventually(lambda: delivered(world, own.msg_id), what="the citizen's message")
    assert mine["on_behalf_of_id"] is None
    assert mine["citizen_id"] == citizen
    assert mine["text"] == "Kan dere komme etter ti i morgen?"
    theirs = eventually(lambda: delivered(world, proxy.msg_id), what="the proxy's message")
    assert theirs["on_behalf_of_id"] == RELATIVE.id
    assert theirs["on_behalf_of_name"] == "Roland Gundersen"
    assert theirs["thread_id"] == proxy.msg_id
    world.portal.assert_no_violations()


def test_staff_answers_reach_the_portal_in_the_right_thread(running: World) -> None:
    """An answer and an interim answer land in the citizen's thread; a new thread is a DI
    that the citizen can answer; every message we send gets its AppRec from the portal."""
    world = running
    citizen = world.citizens[0]
    question = world.portal.send_citizen_message(world.municipality, world.service, citizen)
    eventually(lambda: delivered(world, question.msg_id), what="the question in the EPJ")
    world.harness.write_staff_message(citizen, "Vi ser på det og svarer i morgen.",
                                      thread_id=question.msg_id, in_reply_to=question.msg_id,
                                      interim=True)
    interim = world.portal.wait_for(function=Function.SERVICE_REPLY, thread=question.msg_id,
                                    timeout=15)[0]
    assert interim.message.interim
    assert interim.message.conversation is not None
    assert interim.message.conversation.parent == question.msg_id
    world.harness.write_staff_message(citizen, "Vi kommer kl. 10.15.",
                                      thread_id=question.msg_id, in_reply_to=question.msg_id)
    answers = world.portal.wait_for(function=Function.SERVICE_REPLY, thread=question.msg_id,
                                    count=2, timeout=15)
    final = [a for a in answers if not a.message.interim]
    assert [a.message.body for a in final] == ["Vi kommer kl. 10.15."]
    assert final[0].message.author

    world.harness.write_staff_message(citizen, "Husk at nøkkelboksen får ny kode på fredag.")
    started = world.portal.wait_for(function=Function.SERVICE_MESSAGE, citizen=citizen,
                                    timeout=15)[0]
    assert started.message.code == "DI" and started.message.conversation is None
    reply = world.portal.send_citizen_reply(started, body="Takk for beskjed!")
    answered = eventually(lambda: delivered(world, reply.msg_id), what="the reply in the EPJ")
    assert answered["text"] == "Takk for beskjed!"
    eventually(lambda: not world.store.receipts.pending(world.municipality),
               what="every AppRec from the portal resolved")
    world.portal.assert_no_violations()


def test_e35_marks_the_citizen_inactive_and_stops_sending(running: World) -> None:
    """After an AppRec E35, nothing more is sent to the citizen; it waits as a dead letter."""
    world = running
    citizen = world.citizens[0]
    world.portal.answers.reject_citizen(citizen)
    world.harness.write_staff_message(citizen, "Første melding.")
    world.portal.wait_for(function=Function.SERVICE_MESSAGE, citizen=citizen, timeout=15)
    eventually(lambda: world.store.citizens.is_inactive(world.municipality, citizen),
               what="the citizen marked inactive")
    world.harness.write_staff_message(citizen, "Andre melding.")
    parked = eventually(lambda: [d for d in world.store.dead_letters.list(world.municipality)
                                 if "E35" in d.reason], what="the second message parked")
    assert len(parked) == 1
    assert len(world.portal.received(function=Function.SERVICE_MESSAGE, citizen=citizen)) == 1


def test_a_closed_or_unreceived_service_is_refused_with_26(running: World) -> None:
    """A service the configuration does not open, or one the citizen does not receive: 26."""
    world = running
    citizen = world.citizens[0]
    stranger = samples.RELATIVE.id  # a valid id the EPJ does not know
    closed = world.portal.send_citizen_message(world.municipality, world.unconfigured_service,
                                               citizen)
    unreceived = world.portal.send_citizen_message(world.municipality, world.service, stranger)
    for sent in (closed, unreceived):
        refusal = world.portal.wait_for(function=Function.REFUSAL, thread=sent.msg_id,
                                        timeout=15)[0]
        assert refusal.message.code == "26"
        assert world.portal.wait_for_receipt(sent.msg_id).message.receipt is not None
    assert delivered(world, closed.msg_id) is None
    assert delivered(world, unreceived.msg_id) is None
    world.portal.assert_no_violations()


def test_a_notice_and_a_closing_reach_the_portal(running: World) -> None:
    """Staff's one-off notice is an EKI of its own; closing the citizen's thread is a 13 in it,
    and the thread is no longer waiting for an answer."""
    world = running
    citizen = world.citizens[0]
    question = world.portal.send_citizen_message(world.municipality, world.service, citizen)
    eventually(lambda: delivered(world, question.msg_id), what="the question in the EPJ")
    world.harness.write_staff_message(citizen, "Vi stenger for i dag.", kind="notice")
    notice = world.portal.wait_for(function=Function.SERVICE_NOTICE, citizen=citizen,
                                   timeout=15)[0]
    assert notice.message.code == "EKI" and notice.message.conversation is None
    world.harness.write_staff_message(citizen, "Saken er avsluttet.", kind="closing",
                                      thread_id=question.msg_id, in_reply_to=question.msg_id)
    closing = world.portal.wait_for(function=Function.THREAD_CLOSED, thread=question.msg_id,
                                    timeout=15)[0]
    assert closing.message.code == "13"
    assert closing.message.conversation is not None
    assert closing.message.conversation.parent == question.msg_id
    thread = world.store.threads.get(question.msg_id)
    assert thread is not None and thread.closed_at is not None
    world.portal.assert_no_violations()


def test_a_refusal_from_the_portal_is_acknowledged_and_nothing_else(running: World) -> None:
    """The portal could not take a DI (26): it gets its AppRec; nothing is parked or sent on."""
    world = running
    citizen = world.citizens[0]
    world.harness.write_staff_message(citizen, "Husk legetimen på torsdag.")
    started = world.portal.wait_for(function=Function.SERVICE_MESSAGE, citizen=citizen,
                                    timeout=15)[0].message
    refusal = PortalMessage(
        process=started.process, function=Function.REFUSAL, code="26", msg_id=new_msg_id(),
        generated_at=started.generated_at, sender=started.receiver, receiver=started.sender,
        patient=started.patient, body="Mottaker kan ikke motta meldingen.",
        conversation=Conversation(parent=started.msg_id, root=started.msg_id))
    sent = world.portal.send_message(refusal)
    receipt = world.portal.wait_for_receipt(sent.msg_id, timeout=15)
    assert receipt.message.receipt is not None
    assert receipt.message.receipt.status.value == "ok"
    assert world.store.dead_letters.list() == []
    world.portal.assert_no_violations()
