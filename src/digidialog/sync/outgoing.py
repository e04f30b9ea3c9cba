"""The messages a municipality sends to the portal, built from what the engine knows.

Each builder returns a :class:`PortalMessage` that the codec encodes and
validates; none of them decides *whether* to send, only *what*.
"""

from __future__ import annotations

from datetime import datetime

from digidialog.domain import ApplicationReceipt, ReceiptError, ReceiptStatus
from digidialog.domain.events import StaffMessage, StaffMessageKind
from digidialog.helsenorge import Conversation, Function, Party, Patient, PortalMessage, Process
from digidialog.helsenorge.message import new_msg_id
from digidialog.sync.header import Header

REFUSED = "26"
"""Dialogmelding code: the service cannot take the message (closed, not received, no right)."""


def application_receipt(original: Header, at: datetime, *,
                        errors: tuple[tuple[str, str], ...] = ()) -> PortalMessage:
    """The AppRec for ``original``: OK, or rejected with ``(code, text)`` errors (8221)."""
    return PortalMessage(
        process=Process.APPREC.value, function=Function.RECEIPT, code="2" if errors else "1",
        msg_id=new_msg_id(), generated_at=at, ack=False,
        sender=original.receiver, receiver=original.sender,
        receipt=ApplicationReceipt(
            status=ReceiptStatus.REJECTED if errors else ReceiptStatus.OK,
            errors=tuple(ReceiptError(code=code, text=text) for code, text in errors),
            original_msg_id=original.msg_id, original_process=original.process,
            original_issued_at=original.generated_at,
        ),
    )


def refusal(original: PortalMessage, at: datetime, text: str, code: str = REFUSED, *,
            process: Process | None = None) -> PortalMessage:
    """A refusal (26 by default; 30 no access) in the thread of ``original``, and why.

    It is written in ``process``, by default that of ``original``, which has to
    have the code (see :func:`digidialog.helsenorge.roles.refusal_route`).
    """
    root = original.conversation.root if original.conversation else original.msg_id
    return PortalMessage(
        process=original.process if process is None else process.value,
        function=Function.REFUSAL, code=code,
        msg_id=new_msg_id(), generated_at=at,
        conversation=Conversation(parent=original.msg_id, root=root),
        sender=original.receiver, receiver=original.sender, patient=original.patient,
        subject="Meldingen kunne ikke mottas", body=text,
    )


def patient_named(citizen_id: str, full_name: str) -> Patient:
    """The citizen as MsgHead ``Patient``, from the EPJ's one-string name."""
    parts = full_name.split()
    given = " ".join(parts[:-1]) or full_name or "-"
    family = parts[-1] if parts else "-"
    return Patient(id=citizen_id, given_name=given, family_name=family)


_STAFF_FUNCTIONS = {
    StaffMessageKind.ANSWER: (Function.SERVICE_REPLY, "19"),
    StaffMessageKind.DIALOG: (Function.SERVICE_MESSAGE, "DI"),
    StaffMessageKind.NOTICE: (Function.SERVICE_NOTICE, "EKI"),
    StaffMessageKind.CLOSING: (Function.THREAD_CLOSED, "13"),
}


def staff_kind(message: StaffMessage, conversation: Conversation | None) -> StaffMessageKind:
    """What the staff message is towards the portal, given the thread it was placed in.

    An answer or a closing whose thread the engine does not know starts a dialog
    instead (the citizen still gets the text, and may answer it).
    """
    kind = message.resolved_kind
    if conversation is None and kind in {StaffMessageKind.ANSWER, StaffMessageKind.CLOSING}:
        return StaffMessageKind.DIALOG
    return kind


def staff_message(message: StaffMessage, *, sender: Party, receiver: Party, patient: Patient,
                  conversation: Conversation | None, at: datetime) -> PortalMessage:
    """A staff member's message: an answer (19, maybe interim) or a closing (13) in a thread,
    a new thread (DI), or a one-off notice (EKI)."""
    kind = staff_kind(message, conversation)
    function, code = _STAFF_FUNCTIONS[kind]
    in_thread = kind in {StaffMessageKind.ANSWER, StaffMessageKind.CLOSING}
    return PortalMessage(
        process=Process.EKONTAKT.value, function=function, code=code, msg_id=new_msg_id(),
        generated_at=at, conversation=conversation if in_thread else None, sender=sender,
        receiver=receiver, patient=patient, subject=message.subject or None,
        body=message.body, author=message.author,
        interim=message.interim and kind is StaffMessageKind.ANSWER,
    )
