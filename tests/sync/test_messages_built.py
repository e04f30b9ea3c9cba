"""The engine's own messages: AppRecs, refusals, staff messages, and headers of unusable input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from digidialog.domain.events import StaffMessage
from digidialog.helsenorge import Conversation, Function, decode, encode
from digidialog.sync import outgoing
from digidialog.sync.header import Header, peek_header
from digidialog.testing import samples

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def test_an_apprec_names_the_message_it_answers_and_goes_back_to_its_sender(
    official_validate: Callable[[bytes], list[str]],
) -> None:
    """OK and rejected AppRecs encode, pass the official schemas and point at the original."""
    question = samples.citizen_message(NOW)
    for errors in ((), (("E10", "fromHerId does not name the MsgHead sender"),)):
        data = encode(outgoing.application_receipt(Header.of(question), NOW, errors=errors))
        assert official_validate(data) == []
        receipt = decode(data)
        assert receipt.receipt is not None
        assert receipt.receipt.original_msg_id == question.msg_id
        assert receipt.receiver == question.sender
        assert receipt.sender == question.receiver
        assert [e.code for e in receipt.receipt.errors] == [code for code, _ in errors]


def test_a_refusal_is_code_26_in_the_citizens_thread() -> None:
    """The refusal answers the refused message and keeps its thread."""
    question = samples.citizen_message(NOW)
    refusal = decode(encode(outgoing.refusal(question, NOW, "Tjenesten er stengt.")))
    assert (refusal.function, refusal.code) == (Function.REFUSAL, "26")
    assert refusal.conversation == Conversation(parent=question.msg_id, root=question.msg_id)
    assert refusal.patient == question.patient


def test_a_staff_message_is_an_answer_in_a_thread_or_starts_one() -> None:
    """With a conversation it is a 19 (interim kept); without one a DI, never interim."""
    question = samples.citizen_message(NOW)
    staff = StaffMessage(vendor_message_id="G-1", service_code="HSP", thread_id=question.msg_id,
                         citizen_id=samples.CITIZEN.id, body="Vi kommer kl. 10.",
                         author="Kari Nordmann", sent_at=NOW, interim=True)
    conversation = Conversation(parent=question.msg_id, root=question.msg_id)
    reply = decode(encode(outgoing.staff_message(
        staff, sender=question.receiver, receiver=question.sender, patient=samples.CITIZEN,
        conversation=conversation, at=NOW)))
    assert (reply.function, reply.code, reply.interim) == (Function.SERVICE_REPLY, "19", True)
    assert reply.author == "Kari Nordmann"
    unthreaded = staff.model_copy(update={"thread_id": None, "interim": False})
    started = decode(encode(outgoing.staff_message(
        unthreaded, sender=question.receiver, receiver=question.sender, patient=samples.CITIZEN,
        conversation=None, at=NOW)))
    assert (started.function, started.code, started.interim) == (
        Function.SERVICE_MESSAGE, "DI", False)
    assert started.conversation is None


def test_a_patient_is_named_from_the_epjs_one_string_name() -> None:
    """The last word is the family name; a single word serves as both."""
    person = outgoing.patient_named(samples.CITIZEN.id, "Line Marie Danser")
    assert (person.given_name, person.family_name) == ("Line Marie", "Danser")
    single = outgoing.patient_named(samples.CITIZEN.id, "Áilu")
    assert (single.given_name, single.family_name) == ("Áilu", "Áilu")


def test_the_header_of_an_invalid_message_can_still_be_read() -> None:
    """A message the codec refuses still names its MsgId and parties for the AppRec."""
    question = samples.citizen_message(NOW)
    data = encode(question).replace(b"<Sporsmal>", b"<Sporsmal><Bogus/>", 1)
    header = peek_header(data)
    assert header is not None
    assert header.msg_id == question.msg_id
    assert header.sender == question.sender


def test_no_header_is_read_from_what_is_not_a_msghead() -> None:
    """Garbage, other roots, DTDs and missing parts give None, never an exception."""
    question = encode(samples.citizen_message(NOW))
    for data in (b"", b"not xml", b"<a/>", b'<!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>',
                 question.replace(b"MsgInfo>", b"MsgInfx>")):
        assert peek_header(data) is None


def test_a_notice_is_eki_and_a_closing_is_13_in_its_thread() -> None:
    """The kind the EPJ gave decides the code; a closing without a known thread opens one."""
    question = samples.citizen_message(NOW)
    conversation = Conversation(parent=question.msg_id, root=question.msg_id)
    notice = StaffMessage(vendor_message_id="G-2", service_code="HSP", kind="notice",
                          citizen_id=samples.CITIZEN.id, body="Stengt i dag.", sent_at=NOW)
    closing = StaffMessage(vendor_message_id="G-3", service_code="HSP", kind="closing",
                           thread_id=question.msg_id, citizen_id=samples.CITIZEN.id,
                           body="Avsluttet.", sent_at=NOW)
    built = {
        name: decode(encode(outgoing.staff_message(
            staff, sender=question.receiver, receiver=question.sender,
            patient=samples.CITIZEN, conversation=placed, at=NOW)))
        for name, staff, placed in (("notice", notice, None), ("closing", closing, conversation),
                                    ("orphan closing", closing, None))
    }
    assert (built["notice"].code, built["notice"].conversation) == ("EKI", None)
    assert (built["closing"].code, built["closing"].conversation) == ("13", conversation)
    assert (built["orphan closing"].code, built["orphan closing"].conversation) == ("DI", None)
