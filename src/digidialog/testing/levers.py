"""What the appointment levers of every harness share: checking what a test asks for.

A harness's :meth:`~digidialog.testing.harness.ConformanceHarness.seed_visit` and
:meth:`~digidialog.testing.harness.ConformanceHarness.seed_planned_series` take
plain arguments; the functions here turn them into the domain objects the
vendor mocks store (:class:`Appointment`, :class:`Recurrence`), refusing
arguments no EPJ could hold with a :class:`ValueError` that says which, so a
test's mistake is not silently stored as something else. Pure domain code:
no mock machinery is imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.domain.timezone import to_oslo

CITIZEN_OR_SERVICE = {
    CancellationReason.BY_SERVICE: CancellationReason.BY_SERVICE,
    CancellationReason.NOT_AT_HOME: CancellationReason.BY_SERVICE,
    CancellationReason.BY_CITIZEN: CancellationReason.BY_CITIZEN,
    CancellationReason.ON_BEHALF_OF_CITIZEN: CancellationReason.BY_CITIZEN,
}
"""How each reason arrives from a vendor that only says "the citizen" or "the service"
cancelled (all three contracts: AvlystAv BRUKER/TJENESTE, CancelledBy Client/Provider,
AvlystAv P/T): "not at home" is the service's, "on behalf of" the citizen's."""

_WITH_EMPLOYEES = (AppointmentStatus.ASSIGNED, AppointmentStatus.COMPLETED)


def seeded_visit(uid: str, *, status: AppointmentStatus, start: datetime, end: datetime,
                 service_code: str, employees: Sequence[str] = (), text: str | None = None,
                 cancelled_by: CancellationReason | None = None,
                 done_at: datetime | None = None) -> Appointment:
    """One visit as a seed lever was asked for it, checked.

    A cancelled visit without ``cancelled_by`` was cancelled by the service; a
    completed one without ``done_at`` was done at its start. Employees belong to
    assigned and completed visits (the three contracts carry them there only),
    a reason to a cancelled one, a completion time to a completed one.
    """
    status = AppointmentStatus(status)
    if employees and status not in _WITH_EMPLOYEES:
        raise ValueError("only assigned and completed visits have employees")
    if cancelled_by is not None and status is not AppointmentStatus.CANCELLED:
        raise ValueError("only a cancelled visit has cancelled_by")
    if done_at is not None and status is not AppointmentStatus.COMPLETED:
        raise ValueError("only a completed visit has done_at")
    if status is AppointmentStatus.CANCELLED:
        cancelled_by = CancellationReason(cancelled_by or CancellationReason.BY_SERVICE)
    if status is AppointmentStatus.COMPLETED and done_at is None:
        done_at = start
    return Appointment(
        uid=uid, status=status, start=start, end=end, service_id=service_code,
        employees=tuple(employees), description=text, cancellation_reason=cancelled_by,
        completed_at=done_at,
    )


def planned_series(*, frequency: Frequency | str, start: datetime, by_day: Sequence[Weekday | str],
                   interval: int, until: date | None, paused: Sequence[datetime]) -> Recurrence:
    """The recurrence of a planned series, checked: ``start`` is its first occurrence and
    every paused instant is one of its occurrences (a pause elsewhere pauses nothing)."""
    recurrence = Recurrence(frequency=Frequency(frequency), interval=interval,
                            by_day=tuple(Weekday(day) for day in by_day), until=until,
                            paused=tuple(paused))
    unpaused = recurrence.model_copy(update={"paused": ()})
    first = to_oslo(start).date()
    last = max([first, *(to_oslo(p).date() for p in paused)])
    if until is not None and until < first:
        raise ValueError("the series ends (until) before it starts")
    occurrences = set(unpaused.occurrences(start, last))
    if start not in occurrences:
        raise ValueError("start is not an occurrence of the series (check by_day)")
    if start in set(paused):
        raise ValueError("the first occurrence of a series cannot be paused")
    for instant in paused:
        if instant not in occurrences:
            raise ValueError("a paused instant is not an occurrence of the series")
    return recurrence


def year_after(start: datetime) -> date:
    """The last day a series without an end is kept for: a year on, as a work plan would be."""
    return to_oslo(start).date() + timedelta(days=365)


def span_of(windows: Iterable[tuple[datetime, datetime]]) -> tuple[datetime, datetime] | None:
    """A period holding every (start, end) window, or None when there are none.

    Enough to read a planned series back too: each contract returns a series
    whose first window lies in the period asked for.
    """
    held = list(windows)
    if not held:
        return None
    return (min(s for s, _ in held) - timedelta(hours=1),
            max(e for _, e in held) + timedelta(hours=1))
