"""Period cancellations carried out visit by visit, as Profil requires.

Profil cancels one visit per ``CancelVisit`` and knows nothing of periods, so a
citizen's period becomes one call per visit of the chosen services that starts
inside it. Each call carries its own ExternalId, derived from our request id
and the visit, so every call is idempotent on its own and a repeated request
repeats exactly the same calls.

A planned series (a visit with a Recurrence) is one Visit in Profil: cancelling
it cancels every occurrence. A series whose occurrences all fall inside the
period is cancelled; one that also has occurrences outside cannot be cancelled
for the period alone, so it is refused without asking Profil, and the
citizen's answer says rejected (staff decide it by hand).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from digidialog.domain import Appointment, AppointmentStatus, CancellationRequest
from digidialog.errors import InvalidRequest

_OPEN = (AppointmentStatus.PLANNED, AppointmentStatus.ASSIGNED)
_MAX_EXTERNAL_ID = 255


@dataclass(frozen=True)
class Expansion:
    """The visits a period expands into: those to cancel, and those Profil cannot cancel alone."""

    cancel: tuple[int, ...]
    refuse: tuple[int, ...]


def external_id(request_id: str, visit_id: int) -> str:
    """The ExternalId of one visit's CancelVisit: our request id, a colon, the VisitId."""
    value = f"{request_id}:{visit_id}"
    if len(value) > _MAX_EXTERNAL_ID:
        raise InvalidRequest("the request id is too long for Profil's ExternalId")
    return value


def visit_number(uid: str | None) -> int:
    """Profil's VisitId from an appointment uid this adapter issued."""
    if uid is None or not uid.isascii() or not uid.isdigit():
        raise InvalidRequest("the appointment uid is not a Profil VisitId")
    return int(uid)


def expand(request: CancellationRequest, appointments: Iterable[Appointment]) -> Expansion:
    """The visits of the request's services, still planned or assigned, starting in its period."""
    services = set(request.service_ids)
    cancel: list[int] = []
    refuse: list[int] = []
    for appointment in appointments:
        if appointment.service_id not in services or appointment.status not in _OPEN:
            continue
        inside, outside = _occurrences(appointment, request.start, request.end)
        if inside:
            (refuse if outside else cancel).append(int(appointment.uid))
    return Expansion(cancel=tuple(dict.fromkeys(cancel)), refuse=tuple(dict.fromkeys(refuse)))


def _occurrences(appointment: Appointment, start: datetime, end: datetime) -> tuple[bool, bool]:
    """Whether the visit (or its series) starts inside ``[start, end)``, and also outside it."""
    recurrence = appointment.recurrence
    if recurrence is None:
        inside = start <= appointment.start < end
        return inside, not inside
    inside = outside = False
    for occurrence in recurrence.occurrences(appointment.start, recurrence.until or date.max):
        if occurrence >= end:
            # The series goes on after the period; nothing later can change the answer.
            return inside, True
        if occurrence >= start:
            inside = True
        else:
            outside = True
    return inside, outside
