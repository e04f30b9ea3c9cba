"""A fake engine for the simulator's tests: one municipality answering the portal.

It reads the municipality's queues, decodes with the real codec, and writes
real messages back with the properties the engine is expected to set, or, when
asked, with broken ones (refs pointing nowhere, spoofed HER-ids, a wrong subject).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from digidialog.domain import ApplicationReceipt, Appointment, AppointmentStatus, ReceiptStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import decode, encode
from digidialog.helsenorge.message import (
    Conversation,
    Function,
    Party,
    Patient,
    PortalMessage,
    new_msg_id,
)
from digidialog.helsenorge.processes import Process
from digidialog.transport.base import (
    APPREC_SUBJECT,
    Envelope,
    async_queue,
    error_queue,
    sync_queue,
)

from ._loopback import LoopbackTransport

MUNICIPALITY, SERVICE, PORTAL = "1000001", "1000002", "100000"
CITIZEN = Patient(id="13116900216", given_name="Line", family_name="Danser")
OTHER_CITIZEN = Patient(id="15076500565", given_name="Roland", family_name="Gundersen")
PORTAL_PARTY = Party(her_ids=(PORTAL, "100001"),
                     names=("DIREKTORATET FOR E-HELSE", "Digitale innbyggertjenester"))


class FakeEngine:
    """Plays municipality ``MUNICIPALITY`` with service ``SERVICE`` against the simulator."""

    def __init__(self, transport: LoopbackTransport) -> None:
        """Talk over ``transport``."""
        self.transport = transport
        self.party = Party(her_ids=(MUNICIPALITY, SERVICE),
                           names=("Eksempel kommune", "Hjemmesykepleien"))

    def take(self, queue: str | None = None, timeout: float = 2.0
             ) -> tuple[Envelope, PortalMessage]:
        """The next envelope on the municipality's async queue (or ``queue``), decoded."""
        delivery = self.transport.receive(queue or async_queue(MUNICIPALITY), timeout)
        assert delivery is not None, "nothing arrived for the fake engine"
        delivery.accept()
        return delivery.envelope, decode(delivery.envelope.body)

    def send(self, message: PortalMessage, **lies: str | None) -> Envelope:
        """Encode and send to the portal with the engine's properties, or with ``lies``."""
        properties: dict[str, object] = {
            "subject": APPREC_SUBJECT if message.function is Function.RECEIPT else message.process,
            "from_her_id": MUNICIPALITY, "to_her_id": PORTAL, "cpa_id": "cpa-test",
            "application_timestamp": datetime.now(UTC),
        }
        properties.update(lies)
        envelope = Envelope(body=encode(message), **properties)  # type: ignore[arg-type]
        self.transport.send(async_queue(PORTAL), envelope)
        return envelope

    def message(self, function: Function, code: str, *, process: Process = Process.EKONTAKT,
                patient: Patient | None = CITIZEN, **fields: object) -> PortalMessage:
        """A message from the service to the portal."""
        values: dict[str, object] = {
            "process": process.value, "function": function, "code": code,
            "msg_id": new_msg_id(), "generated_at": datetime.now(UTC), "sender": self.party,
            "receiver": PORTAL_PARTY, "patient": patient,
        }
        values.update(fields)
        return PortalMessage.model_validate(values)

    def reply(self, question: PortalMessage, *, parent: str | None = None,
              root: str | None = None, **fields: object) -> PortalMessage:
        """A 19 answering ``question``; ``parent``/``root`` override the refs (to break them)."""
        thread = question.conversation.root if question.conversation else question.msg_id
        values: dict[str, object] = {
            "conversation": Conversation(parent=parent or question.msg_id, root=root or thread),
            "patient": question.patient, "subject": "Svar", "body": "Vi kommer klokka ti.",
            "author": "Sykepleier Hansen",
        }
        values.update(fields)
        return self.message(Function.SERVICE_REPLY, "19", **values)

    def new_thread(self, patient: Patient = CITIZEN) -> PortalMessage:
        """A DI: the service starts a thread the citizen may answer."""
        return self.message(Function.SERVICE_MESSAGE, "DI", patient=patient,
                            subject="Endring", body="Vi kommer en time senere i morgen.")

    def receipt(self, original: PortalMessage, *, about: str | None = None) -> PortalMessage:
        """An OK AppRec for ``original`` (or claiming to be about ``about``)."""
        return self.message(
            Function.RECEIPT, "1", process=Process.APPREC, patient=None, ack=False,
            receiver=original.sender,
            receipt=ApplicationReceipt(
                status=ReceiptStatus.OK, original_msg_id=about or original.msg_id,
                original_process=original.process, original_issued_at=original.generated_at),
        )

    def answer_planned_appointments(self, timeout: float = 2.0, *, delay: float = 0.0,
                                    parent: str | None = None) -> PortalMessage:
        """Take one HBT from the sync queue and answer it (01) on its reply-to."""
        delivery = self.transport.receive(sync_queue(MUNICIPALITY), timeout)
        assert delivery is not None, "no synchronous request arrived"
        delivery.accept()
        request = delivery.envelope
        question = decode(request.body)
        today = datetime.now(OSLO).date() + timedelta(days=1)
        visit = Appointment(
            uid="besok-1", series="serie-1", status=AppointmentStatus.ASSIGNED,
            start=datetime(today.year, today.month, today.day, 9, tzinfo=OSLO),
            end=datetime(today.year, today.month, today.day, 9, 30, tzinfo=OSLO),
            service_id="12", service_name="Hjemmesykepleie", employees=("Ola Pleier",),
            contact_her_id=SERVICE, organizer="Eksempel kommune", location="Hjemmebesøk",
        )
        answer = self.message(
            Function.PLANNED_APPOINTMENTS_REPLY, "01", process=Process.TIMERESERVASJON,
            ack=False, patient=question.patient, appointments=(visit,),
            conversation=Conversation(parent=parent or question.msg_id, root=question.msg_id),
        )
        time.sleep(delay)
        assert request.reply_to is not None
        self.transport.send(request.reply_to, Envelope(
            body=encode(answer), subject=answer.process, from_her_id=MUNICIPALITY,
            to_her_id=PORTAL, cpa_id="cpa-test", application_timestamp=datetime.now(UTC),
            correlation_id=request.correlation_id,
        ))
        return answer

    def report_error(self, about: Envelope, condition: str | None,
                     description: str = "cannot read it") -> None:
        """Tell the portal, on its error queue, that ``about`` could not be read."""
        properties = {"originalMessageId": about.message_id, "errorDescription": description}
        if condition is not None:
            properties["errorCondition"] = condition
        self.transport.send(error_queue(PORTAL), replace(
            about, message_id=str(uuid.uuid4()), from_her_id=MUNICIPALITY, to_her_id=PORTAL,
            properties=properties))
