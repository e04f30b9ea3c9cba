"""What happens in an EPJ that the portal must hear about, as vendor-neutral events.

Each event carries the vendor's own id for it (``event_id``), which the sync
engine uses as an idempotency key: vendors deliver at least once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from digidialog.domain.appointments import Appointment
from digidialog.domain.base import Frozen
from digidialog.domain.cancellations import CancellationDecision
from digidialog.domain.national_id import NationalId
from digidialog.domain.timezone import AwareDatetime


class EventKind(StrEnum):
    """The kinds of change an EPJ reports."""

    APPOINTMENT_CHANGED = "appointment_changed"
    VISIT_COMPLETED = "visit_completed"
    STAFF_MESSAGE = "staff_message"
    CANCELLATION_DECIDED = "cancellation_decided"


class StaffMessageKind(StrEnum):
    """What staff meant a message to be, as the EPJ says it (eKontakt function).

    The vendor contracts carry it in one optional element; when the EPJ does not
    say, :attr:`StaffMessage.kind` is ``None`` and :attr:`StaffMessage.resolved_kind`
    derives it from the thread.
    """

    ANSWER = "answer"  # 19: an answer in the citizen's thread (interim or full)
    DIALOG = "dialog"  # DI: a new thread the citizen may answer
    NOTICE = "notice"  # EKI: a one-off notice, no answer possible
    CLOSING = "closing"  # 13: the service closes the thread


class StaffMessage(Frozen):
    """A message written by staff in the EPJ, to go to the citizen.

    ``kind`` is what the EPJ said the message is; ``None`` means "derive it":
    in a thread it is an answer, without one it starts a dialog (see
    :attr:`resolved_kind`). The rules: a notice starts a thread of its own (no
    ``thread_id``, no ``in_reply_to``); a closing needs the thread it closes;
    only an answer (given, or derived in a thread) can be interim.
    """

    vendor_message_id: str = Field(min_length=1)
    thread_id: str | None = Field(default=None, description="absent when staff start a thread")
    in_reply_to: str | None = None
    service_code: str
    citizen_id: NationalId
    subject: str | None = None
    body: str
    author: str | None = None
    sent_at: AwareDatetime
    interim: bool = False
    kind: StaffMessageKind | None = Field(default=None, description="None: derive it")

    @model_validator(mode="after")
    def _kind_rules(self) -> StaffMessage:
        if self.kind is StaffMessageKind.NOTICE and (
            self.thread_id is not None or self.in_reply_to is not None
        ):
            raise ValueError("a one-off notice starts a thread: no thread_id, no in_reply_to")
        if self.kind is StaffMessageKind.CLOSING and self.thread_id is None:
            raise ValueError("a closing needs the thread it closes (thread_id)")
        if self.interim and self.resolved_kind is not StaffMessageKind.ANSWER:
            raise ValueError("only an answer in a thread can be interim")
        return self

    @property
    def resolved_kind(self) -> StaffMessageKind:
        """``kind`` if the EPJ gave it; else an answer in a thread, a dialog without one."""
        if self.kind is not None:
            return self.kind
        return StaffMessageKind.DIALOG if self.thread_id is None else StaffMessageKind.ANSWER


class AppointmentChanged(Frozen):
    """A new or changed appointment (planned, assigned or cancelled)."""

    kind: Literal[EventKind.APPOINTMENT_CHANGED] = EventKind.APPOINTMENT_CHANGED
    event_id: str
    occurred_at: AwareDatetime
    citizen_id: NationalId
    appointment: Appointment


class VisitCompleted(Frozen):
    """A visit registered done: pushed to the portal in real time."""

    kind: Literal[EventKind.VISIT_COMPLETED] = EventKind.VISIT_COMPLETED
    event_id: str
    occurred_at: AwareDatetime
    citizen_id: NationalId
    appointment: Appointment


class StaffMessageWritten(Frozen):
    """Staff wrote a message (an answer, or a new thread)."""

    kind: Literal[EventKind.STAFF_MESSAGE] = EventKind.STAFF_MESSAGE
    event_id: str
    occurred_at: AwareDatetime
    citizen_id: NationalId
    message: StaffMessage


class CancellationDecided(Frozen):
    """The EPJ's answer to a cancellation we registered.

    ``citizen_id`` is ``None`` when the EPJ's answer does not name the citizen
    (Gerica's does not): the engine knows whose cancellation ``request_id`` was,
    since it registered it.
    """

    kind: Literal[EventKind.CANCELLATION_DECIDED] = EventKind.CANCELLATION_DECIDED
    event_id: str
    occurred_at: AwareDatetime
    citizen_id: NationalId | None
    decision: CancellationDecision


EpjEvent = Annotated[
    AppointmentChanged | VisitCompleted | StaffMessageWritten | CancellationDecided,
    Field(discriminator="kind"),
]
"""Any event an EPJ reports."""
