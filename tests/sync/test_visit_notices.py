"""Which push an appointment change calls for (decide_notice), case by case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason
from digidialog.store import StoredAppointment
from digidialog.sync.context import Municipality
from digidialog.sync.visits import decide_notice

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)


def municipality(*statuses: str) -> Municipality:
    """A municipality showing ``statuses`` (its adapter is never called here)."""
    return Municipality(name="Eksempel", her_id="1000001", vendor="gerica",
                        adapter=None,  # type: ignore[arg-type]
                        routes=(), portal_her_id="100000", statuses=statuses)


def visit(status: AppointmentStatus = AppointmentStatus.ASSIGNED, start: datetime = TOMORROW,
          **extra: object) -> Appointment:
    return Appointment(uid="V1", status=status, start=start,
                       end=start + timedelta(minutes=30), service_id="HSP",
                       **extra)  # type: ignore[arg-type]


def stored(appointment: Appointment) -> StoredAppointment:
    return StoredAppointment("13116900216", "HSP", appointment, NOW - timedelta(hours=1))


SHOWN = municipality("planned", "assigned", "cancelled", "completed")


def test_a_visit_done_is_pushed_where_completed_visits_are_shown() -> None:
    """MOA once per visit (its key names the visit), even when never seen before."""
    done = visit(AppointmentStatus.COMPLETED, start=NOW - timedelta(hours=2),
                 completed_at=NOW - timedelta(hours=1))
    notice = decide_notice(SHOWN, None, done, NOW)
    assert notice is not None and notice.code == "MOA"
    assert notice.key == "notice:1000001:V1:completed"
    assert decide_notice(municipality("planned", "assigned"), None, done, NOW) is None


@pytest.mark.parametrize(("reason", "code"), [
    (CancellationReason.BY_SERVICE, "08"), (None, "08"), (CancellationReason.NOT_AT_HOME, "11"),
    (CancellationReason.BY_CITIZEN, None), (CancellationReason.ON_BEHALF_OF_CITIZEN, None),
])
def test_a_known_future_visit_cancelled_is_pushed_by_who_cancelled_it(
        reason: CancellationReason | None, code: str | None) -> None:
    """The service (08), not at home (11); a citizen's own cancellation was answered already."""
    cancelled = visit(AppointmentStatus.CANCELLED, cancellation_reason=reason)
    notice = decide_notice(SHOWN, stored(visit()), cancelled, NOW)
    assert (notice.code if notice else None) == code


def test_a_moved_visit_is_pushed_once_per_new_time() -> None:
    """07 with a key naming the new time: moved twice, pushed twice; unchanged, not at all."""
    later = visit(start=TOMORROW + timedelta(hours=2))
    notice = decide_notice(SHOWN, stored(visit()), later, NOW)
    assert notice is not None and notice.code == "07"
    again = decide_notice(SHOWN, stored(visit()), visit(start=TOMORROW + timedelta(hours=3)),
                          NOW)
    assert again is not None and again.key != notice.key
    assert decide_notice(SHOWN, stored(visit()), visit(description="Ny tekst"), NOW) is None


def test_what_the_citizen_never_saw_is_not_pushed() -> None:
    """A new visit, a past one, or one in a status the municipality does not show."""
    assert decide_notice(SHOWN, None, visit(), NOW) is None
    past = visit(start=NOW - timedelta(hours=3))
    assert decide_notice(SHOWN, stored(past), visit(AppointmentStatus.CANCELLED,
                                                    start=past.start), NOW) is None
    hidden = municipality("planned")
    assert decide_notice(hidden, stored(visit()), visit(start=TOMORROW + timedelta(hours=1)),
                         NOW) is None
    assert decide_notice(hidden, stored(visit()), visit(AppointmentStatus.CANCELLED),
                         NOW) is None
