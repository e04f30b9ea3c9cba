"""One Helsenorge message, decoded: the envelope and the domain objects it carries.

:class:`PortalMessage` is what :func:`digidialog.helsenorge.decode` returns and
what :func:`digidialog.helsenorge.encode` takes. Its field names are the keys of
the stable JSON form printed by ``digidialog decode`` and read by
``digidialog encode``; the README documents each key. Appointments,
cancellation requests, service overview entries and receipts are the domain's
own models, so what the portal sent is what the rest of digidialog works with.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from digidialog.domain import (
    ApplicationReceipt,
    Appointment,
    BodyFormat,
    CancellationOutcome,
    CancellationRequest,
    DigitalStatus,
    Frozen,
    NationalId,
    OnBehalfOf,
    OverviewEntry,
    Person,
    Relation,
)
from digidialog.domain.attachments import Attachment
from digidialog.domain.timezone import AwareDatetime


class Function(StrEnum):
    """What a message does, whatever process and code carry it."""

    CITIZEN_MESSAGE = "citizen_message"
    SERVICE_REPLY = "service_reply"
    SERVICE_MESSAGE = "service_message"
    SERVICE_NOTICE = "service_notice"
    CITIZEN_REPLY = "citizen_reply"
    THREAD_CLOSED = "thread_closed"
    ATTEST_REPLY = "attest_reply"
    REFUSAL = "refusal"
    PLANNED_APPOINTMENTS_REQUEST = "planned_appointments_request"
    PLANNED_APPOINTMENTS_REPLY = "planned_appointments_reply"
    APPOINTMENT_NOTICE = "appointment_notice"
    BOOKING_CONFIRMATION = "booking_confirmation"
    CANCELLATION_REQUEST = "cancellation_request"
    CANCELLATION_REPLY = "cancellation_reply"
    DIGITAL_STATUS_CHANGE = "digital_status_change"
    DIGITAL_STATUS_QUERY = "digital_status_query"
    DIGITAL_STATUS_REPLY = "digital_status_reply"
    SERVICE_OVERVIEW = "service_overview"
    RECEIPT = "receipt"


class Conversation(Frozen):
    """ConversationRef: the message answered and the thread's first message."""

    parent: str = Field(min_length=1)
    root: str = Field(min_length=1)


class Party(Frozen):
    """Sender or receiver: up to two organisation levels (virksomhet, kommunikasjonspart).

    ``her_ids[i]`` and ``names[i]`` describe level ``i``; a level known only by
    its organisation number (as in some official examples) has ``None`` as
    HER-id and the number in ``org_numbers[i]``.
    """

    her_ids: tuple[str | None, ...] = Field(min_length=1, max_length=2)
    names: tuple[str, ...] = Field(min_length=1, max_length=2)
    org_numbers: tuple[str | None, ...] = ()

    @model_validator(mode="after")
    def _levels_line_up(self) -> Party:
        if len(self.names) != len(self.her_ids):
            raise ValueError("her_ids and names describe the same levels")
        if self.org_numbers and len(self.org_numbers) != len(self.her_ids):
            raise ValueError("org_numbers, when given, has one entry per level")
        for level, her_id in enumerate(self.her_ids):
            org = self.org_numbers[level] if self.org_numbers else None
            if her_id is None and org is None:
                raise ValueError(f"level {level + 1} needs a HER-id or an organisation number")
        return self

    @property
    def service_her_id(self) -> str | None:
        """The innermost HER-id: the communication party (service) itself."""
        return next((h for h in reversed(self.her_ids) if h is not None), None)


class Patient(Frozen):
    """The citizen whose matter it is (MsgHead ``Patient``)."""

    id: NationalId
    given_name: str = Field(min_length=1)
    family_name: str = Field(min_length=1)
    middle_name: str | None = None

    def to_person(self) -> Person:
        """The same citizen as a domain :class:`Person`."""
        return Person(
            national_id=self.id,
            given_name=self.given_name,
            family_name=self.family_name,
            middle_name=self.middle_name,
        )


class Representative(Patient):
    """Someone acting for the patient (Pasientrelasjon), and by which right."""

    relation: Relation

    def to_on_behalf_of(self) -> OnBehalfOf:
        """The same relative as the domain's :class:`OnBehalfOf`."""
        return OnBehalfOf(person=self.to_person(), relation=self.relation)


CANCELLATION_KEYS = (
    "kind", "start", "end", "service_ids", "reason", "uid", "series", "contact_her_id",
)
"""The keys of ``cancellation`` in the JSON form, in order (the README documents them).

The message carries the domain's :class:`CancellationRequest`; the JSON form
names the appointment ``uid`` (as xCal does) and leaves out what the envelope
already says: the request's id is the MsgId, the citizen is the patient, and
whoever asked on the citizen's behalf is ``on_behalf_of``.
"""


class PortalMessage(Frozen):
    """A decoded Helsenorge message; see the README for each key."""

    process: str = Field(description="MsgInfo/Type, or APPREC for a receipt")
    function: Function
    code: str = Field(description="TypeForesp or TemaKodet value (Status for a receipt)")
    msg_id: str
    generated_at: AwareDatetime
    ack: bool = True
    conversation: Conversation | None = None
    sender: Party
    receiver: Party
    patient: Patient | None = None
    on_behalf_of: Representative | None = None
    subject: str | None = None
    body: str | None = None
    body_format: BodyFormat = BodyFormat.TEXT
    author: str | None = Field(default=None, description="staff member named as Forfatter")
    interim: bool = False
    appointments: tuple[Appointment, ...] = ()
    cancellation: CancellationRequest | None = Field(
        default=None, description="an ART's request; see CANCELLATION_KEYS for its JSON form"
    )
    decision: CancellationOutcome | None = None
    receipt: ApplicationReceipt | None = None
    digital_status: DigitalStatus | None = None
    persons: tuple[Patient, ...] = ()
    services: tuple[OverviewEntry, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    warnings: tuple[str, ...] = Field(
        default=(), description="what was repaired when reading; never written"
    )

    @model_validator(mode="before")
    @classmethod
    def _cancellation_from_json_form(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        form = data.get("cancellation")
        if not isinstance(form, Mapping) or "request_id" in form:
            return data
        return {**data, "cancellation": _request_of(form, data)}

    @model_validator(mode="after")
    def _cancellation_is_this_messages(self) -> PortalMessage:
        # Whatever the envelope says of the request must agree with it, so that the JSON
        # form, which leaves those fields to the envelope, loses nothing.
        request = self.cancellation
        if request is None:
            return self
        if request.request_id != self.msg_id:
            raise ValueError("the cancellation's request_id is the message's msg_id")
        if self.patient is None or request.citizen_id != self.patient.id:
            raise ValueError("the cancellation's citizen_id is the patient's id")
        asked_by = None if self.on_behalf_of is None else self.on_behalf_of.to_on_behalf_of()
        if request.requested_by != asked_by:
            raise ValueError("the cancellation's requested_by is the message's on_behalf_of")
        return self

    @field_serializer("cancellation", mode="wrap")
    def _cancellation_json_form(
        self, request: CancellationRequest | None, handler: SerializerFunctionWrapHandler
    ) -> dict[str, Any] | None:
        if request is None:
            return None
        dumped = handler(request)
        return {key: dumped["appointment_uid" if key == "uid" else key]
                for key in CANCELLATION_KEYS}

    @field_validator("msg_id")
    @classmethod
    def _msg_id_is_uuid(cls, value: str) -> str:
        try:
            uuid.UUID(value)
        except ValueError:
            raise ValueError("MsgId must be a UUID") from None
        return value


def new_msg_id() -> str:
    """A fresh MsgId."""
    return str(uuid.uuid4())


def _request_of(form: Mapping[str, Any], message: Mapping[str, Any]) -> dict[str, Any]:
    """A cancellation in the JSON form, completed from the message's envelope fields."""
    request = {"appointment_uid" if key == "uid" else key: value for key, value in form.items()}
    patient = message.get("patient")
    citizen = patient.get("id") if isinstance(patient, Mapping) else getattr(patient, "id", None)
    if citizen is None:
        raise ValueError("a cancellation request needs the citizen in patient")
    request.update(request_id=message.get("msg_id"), citizen_id=citizen,
                   requested_by=_asked_by(message.get("on_behalf_of")))
    return request


def _asked_by(representative: object) -> OnBehalfOf | None:
    # A representative that does not validate is left to the field's own error.
    if representative is None:
        return None
    try:
        return Representative.model_validate(representative).to_on_behalf_of()
    except ValidationError:
        return None
