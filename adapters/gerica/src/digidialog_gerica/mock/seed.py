"""Domain appointments (the shared seed data, a test's visits) in Gerica's shape.

The mock stores what Gerica stores: one Ansatt per visit (the first employee),
``AvlystAv`` BRUKER or TJENESTE (a visit the citizen was not home for counts
as cancelled by the service), and the recurrence as an RRULE string.
"""

from __future__ import annotations

from datetime import datetime

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason
from digidialog_gerica.mock.records import Visit
from digidialog_gerica.rrule import format_rrule

STATUS_CODES = {
    AppointmentStatus.PLANNED: "PLANLAGT",
    AppointmentStatus.ASSIGNED: "TILDELT",
    AppointmentStatus.COMPLETED: "UTFORT",
    AppointmentStatus.CANCELLED: "AVLYST",
}
CANCELLED_BY_CODES = {
    CancellationReason.BY_CITIZEN: "BRUKER",
    CancellationReason.ON_BEHALF_OF_CITIZEN: "BRUKER",
    CancellationReason.BY_SERVICE: "TJENESTE",
    CancellationReason.NOT_AT_HOME: "TJENESTE",
}


def visit_from_appointment(citizen_id: str, appointment: Appointment, now: datetime) -> Visit:
    """The Avtale Gerica would hold for ``appointment``, last changed ``now``."""
    reason = appointment.cancellation_reason
    return Visit(
        avtale_id=appointment.uid,
        citizen_id=citizen_id,
        service_code=appointment.service_id or "HSP",
        status=STATUS_CODES[appointment.status],
        start=appointment.start,
        end=appointment.end,
        description=appointment.description or "",
        changed=now,
        rule=None if appointment.recurrence is None else format_rrule(appointment.recurrence),
        employee=appointment.employees[0] if appointment.employees else None,
        done_at=appointment.completed_at,
        cancelled_by=None if reason is None else CANCELLED_BY_CODES[reason],
    )
