"""The domain of digidialog: pure models and rules, no I/O, no XML, no vendor.

Import from here: ``from digidialog.domain import Appointment, Person``.
"""

from digidialog.domain.appointments import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.domain.base import ALLOWED, Decision, Frozen
from digidialog.domain.calendar import answer_deadline, is_overdue, is_working_day, next_working_day
from digidialog.domain.cancellations import (
    CancellationDecision,
    CancellationKind,
    CancellationOutcome,
    CancellationRequest,
    combine_decisions,
)
from digidialog.domain.digital_status import DigitalStatus, DigitalStatusChange
from digidialog.domain.messages import (
    BODY_SHOWN_CHARS,
    SUBJECT_SHOWN_CHARS,
    BodyFormat,
    Message,
    MessageKind,
    OnBehalfOf,
    Thread,
)
from digidialog.domain.national_id import IdKind, NationalId, inspect_national_id
from digidialog.domain.overview import OverviewEntry, ServiceOverview
from digidialog.domain.people import Action, Person, Proxy, ProxyScope, Relation, may_act_for
from digidialog.domain.receipts import ApplicationReceipt, ReceiptError, ReceiptStatus
from digidialog.domain.services import (
    Service,
    ServiceCatalog,
    ServiceEnrolment,
    may_use_service,
    normalise_service_id,
    open_services_for,
)
from digidialog.domain.timezone import OSLO, AwareDatetime, to_oslo, to_utc

__all__ = [
    "ALLOWED",
    "BODY_SHOWN_CHARS",
    "OSLO",
    "SUBJECT_SHOWN_CHARS",
    "Action",
    "ApplicationReceipt",
    "Appointment",
    "AppointmentStatus",
    "AwareDatetime",
    "BodyFormat",
    "CancellationDecision",
    "CancellationKind",
    "CancellationOutcome",
    "CancellationReason",
    "CancellationRequest",
    "Decision",
    "DigitalStatus",
    "DigitalStatusChange",
    "Frequency",
    "Frozen",
    "IdKind",
    "Message",
    "MessageKind",
    "NationalId",
    "OnBehalfOf",
    "OverviewEntry",
    "Person",
    "Proxy",
    "ProxyScope",
    "ReceiptError",
    "ReceiptStatus",
    "Recurrence",
    "Relation",
    "Service",
    "ServiceCatalog",
    "ServiceEnrolment",
    "ServiceOverview",
    "Thread",
    "Weekday",
    "answer_deadline",
    "combine_decisions",
    "inspect_national_id",
    "is_overdue",
    "is_working_day",
    "may_act_for",
    "may_use_service",
    "next_working_day",
    "normalise_service_id",
    "open_services_for",
    "to_oslo",
    "to_utc",
]
