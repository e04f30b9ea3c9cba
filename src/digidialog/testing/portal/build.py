"""The messages Helsenorge sends, built as :class:`PortalMessage` objects.

Pure functions, no I/O: the simulator sends what they build, and tests may
build one, change it (``model_copy(update=...)``) and send that instead. Each
result encodes to a message the national schemas accept; the codec refuses
anything else when it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from digidialog.domain import ApplicationReceipt, DigitalStatus, ReceiptError, ReceiptStatus
from digidialog.domain.attachments import Attachment
from digidialog.helsenorge.message import (
    Conversation,
    Function,
    Party,
    Patient,
    PortalMessage,
    Representative,
    new_msg_id,
)
from digidialog.helsenorge.processes import Process

PORTAL_NAMES = ("DIREKTORATET FOR E-HELSE", "Digitale innbyggertjenester")
"""The portal's two organisation levels as the official examples name them."""

NOT_DIGITALLY_ACTIVE_TEXT = "Pasienten finnes ikke i mottakersystemet"
"""The 8221 display name of ``E35``, which Helsenorge uses for "not digitally active"."""

_ERROR_TEXTS = {"E35": NOT_DIGITALLY_ACTIVE_TEXT, "E10": "Ugyldig meldingsidentifikator",
                "T01": "Ikke XML / ikke velformet / ikke lesbart", "T02": "XML validerer ikke"}

CitizenLike = Patient | str
"""A citizen: a :class:`Patient`, or just a national id (then with synthetic names)."""


def as_patient(citizen: CitizenLike) -> Patient:
    """``citizen`` as a Patient; a bare national id gets the names of a test person."""
    if isinstance(citizen, Patient):
        return citizen
    return Patient(id=citizen, given_name="Test", family_name="Innbygger")


def portal_party(her_id: str, unit_her_id: str) -> Party:
    """Helsenorge as sender: the directorate and its citizen services unit."""
    return Party(her_ids=(her_id, unit_her_id), names=PORTAL_NAMES)


def municipal_party(
    municipality: str, service: str | None, names: Mapping[str, str] | None = None
) -> Party:
    """A municipality (level 1) and, when given, one of its services (level 2)."""
    names = names or {}
    her_ids = (municipality,) if service is None else (municipality, service)
    shown = tuple(names.get(h, f"{'Kommune' if i == 0 else 'Tjeneste'} {h}")
                  for i, h in enumerate(her_ids))
    return Party(her_ids=her_ids, names=shown)


def _message(process: Process, function: Function, code: str, **fields: object) -> PortalMessage:
    values: dict[str, object] = {"process": process.value, "function": function, "code": code,
                                 "msg_id": new_msg_id()}
    values.update(fields)
    return PortalMessage.model_validate(values)


def citizen_message(
    sender: Party, receiver: Party, citizen: CitizenLike, at: datetime, *, subject: str,
    body: str, on_behalf_of: Representative | None = None,
    attachments: Sequence[Attachment] = (),
) -> PortalMessage:
    """A citizen (or a relative with a proxy) writes to a service: HE, starting a thread."""
    return _message(
        Process.EKONTAKT, Function.CITIZEN_MESSAGE, "HE", generated_at=at, sender=sender,
        receiver=receiver, patient=as_patient(citizen), on_behalf_of=on_behalf_of,
        subject=subject, body=body, attachments=tuple(attachments),
    )


def citizen_reply(
    sender: Party, parent: PortalMessage, at: datetime, *, body: str, subject: str | None = None,
    on_behalf_of: Representative | None = None, attachments: Sequence[Attachment] = (),
) -> PortalMessage:
    """The citizen answers ``parent`` (22) in its thread, to the party that wrote it."""
    root = parent.conversation.root if parent.conversation else parent.msg_id
    return _message(
        Process.EKONTAKT, Function.CITIZEN_REPLY, "22", generated_at=at, sender=sender,
        receiver=parent.sender, patient=parent.patient,
        conversation=Conversation(parent=parent.msg_id, root=root),
        on_behalf_of=on_behalf_of, subject=subject, body=body, attachments=tuple(attachments),
    )


def cancellation_request(
    sender: Party, receiver: Party, citizen: CitizenLike, at: datetime,
    cancellation: Mapping[str, object], *, on_behalf_of: Representative | None = None,
    process: Process = Process.AVTALEAVBESTILLING,
) -> PortalMessage:
    """ART: cancel one visit, or every visit of some services in a period (the convention).

    ``cancellation`` is in the JSON form (``kind``, ``start``, ``end``, ``service_ids``,
    ``reason``, ``uid``, ``series``, ``contact_her_id``); the message makes it the
    domain's request. ``process`` may also be Timereservasjon, whose AvbestillAvtale
    carries the same ART.
    """
    return _message(
        process, Function.CANCELLATION_REQUEST, "ART", generated_at=at, sender=sender,
        receiver=receiver, patient=as_patient(citizen), on_behalf_of=on_behalf_of,
        cancellation=cancellation,
    )


def digital_status_change(
    sender: Party, receiver: Party, citizen: CitizenLike, at: datetime, status: DigitalStatus
) -> PortalMessage:
    """SDAB: the citizen became digitally active or inactive."""
    return _message(
        Process.DIGITALBRUKER, Function.DIGITAL_STATUS_CHANGE, "SDAB", generated_at=at,
        sender=sender, receiver=receiver, patient=as_patient(citizen), digital_status=status,
    )


def digital_status_reply(
    sender: Party, question: PortalMessage, at: datetime, active: Sequence[Patient]
) -> PortalMessage:
    """The answer to a SIDAB: ``28`` listing the digitally active persons, ``29`` for none."""
    return _message(
        Process.DIGITALBRUKER, Function.DIGITAL_STATUS_REPLY, "28" if active else "29",
        generated_at=at, sender=sender, receiver=question.sender,
        conversation=Conversation(parent=question.msg_id, root=question.msg_id),
        persons=tuple(active),
    )


def planned_appointments_request(
    sender: Party, receiver: Party, citizen: CitizenLike, at: datetime, *,
    on_behalf_of: Representative | None = None,
) -> PortalMessage:
    """HentPlanlagteTimer (HBT): synchronous, so no AppRec is asked for."""
    return _message(
        Process.TIMERESERVASJON, Function.PLANNED_APPOINTMENTS_REQUEST, "HBT", generated_at=at,
        ack=False, sender=sender, receiver=receiver, patient=as_patient(citizen),
        on_behalf_of=on_behalf_of,
    )


def receipt(
    original: PortalMessage, sender: Party, at: datetime, *, error: str | None = None,
    text: str | None = None,
) -> PortalMessage:
    """The AppRec for ``original``: OK, or rejected with the 8221 code ``error``."""
    errors: tuple[ReceiptError, ...] = ()
    if error is not None:
        errors = (ReceiptError(code=error, text=text or _ERROR_TEXTS.get(error)),)
    return _message(
        Process.APPREC, Function.RECEIPT, "2" if error else "1", generated_at=at, ack=False,
        sender=sender, receiver=original.sender,
        receipt=ApplicationReceipt(
            status=ReceiptStatus.REJECTED if error else ReceiptStatus.OK, errors=errors,
            original_msg_id=original.msg_id, original_process=original.process,
            original_issued_at=original.generated_at,
        ),
    )
