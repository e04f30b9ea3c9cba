"""Each citizen's appointments as the EPJ last reported them, kept for the portal's questions.

The portal asks for a citizen's planned visits synchronously and gives up
after about eight seconds, so the answer comes from here, never from a live
call to the EPJ. The engine keeps this table current from the EPJ's change
feed (or what it pushed) and from reading a window of a citizen's
appointments on first contact and at the nightly reconciliation.

Times are stored in UTC; a planned series keeps its recurrence and paused
dates exactly as the EPJ gave them, in the stored appointment. A row's
``visible_until`` is when the appointment (or the last occurrence of its
series) ends: past that, nothing about it is shown any more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Connection, delete, select

from digidialog.domain import Appointment, AppointmentStatus
from digidialog.domain.timezone import OSLO
from digidialog.store.database import Database
from digidialog.store.schema import appointment_reads, appointments

FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
"""``visible_until`` of a series that never ends."""
READ_CLOCK_SKEW = timedelta(minutes=2)
"""How far the EPJ's clock (and its rounding) may be behind ours."""


@dataclass(frozen=True)
class StoredAppointment:
    """An appointment as stored: whose it is, in which service, and the appointment itself."""

    citizen_id: str
    service_code: str
    appointment: Appointment
    changed_at: datetime

    @property
    def status(self) -> AppointmentStatus:
        """The appointment's state."""
        return self.appointment.status


def visible_until(appointment: Appointment) -> datetime:
    """When the appointment, or the last occurrence of its series, ends (UTC)."""
    recurrence = appointment.recurrence
    if recurrence is None:
        return appointment.end.astimezone(UTC)
    duration = appointment.end - appointment.start
    if recurrence.until is not None:
        last_day = datetime.combine(recurrence.until, time.max, tzinfo=OSLO)
        return (last_day + duration).astimezone(UTC)
    if recurrence.count is not None:
        # The rule stops by count: the last occurrence is found by stepping through it,
        # paused ones included (a pause does not extend a series).
        unpaused = recurrence.model_copy(update={"paused": ()})
        horizon = appointment.start.date() + timedelta(days=7 * recurrence.interval
                                                       * recurrence.count + 7)
        last = None
        for last in unpaused.occurrences(appointment.start, horizon):  # noqa: B007
            pass
        return ((last or appointment.start) + duration).astimezone(UTC)
    return FOREVER


def _in_utc(appointment: Appointment) -> Appointment:
    updates: dict[str, datetime] = {"start": appointment.start.astimezone(UTC),
                                    "end": appointment.end.astimezone(UTC)}
    if appointment.completed_at is not None:
        updates["completed_at"] = appointment.completed_at.astimezone(UTC)
    return appointment.model_copy(update=updates)


class Appointments:
    """Appointments per municipality and citizen, and when each citizen's window was read."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, conn: Connection, municipality: str, citizen_id: str,
            appointment: Appointment, *, service_code: str | None = None,
            changed_at: datetime, force: bool = False) -> StoredAppointment | None:
        """Store ``appointment`` (new or changed); returns what was stored before, if anything.

        ``service_code`` defaults to the appointment's own service id. A change
        older than the one stored (``changed_at``) is ignored, so that events
        taken out of order cannot undo a newer state, unless ``force`` (what
        was just read from the EPJ is its state now, whatever is stored).
        """
        before = self._get(conn, municipality, appointment.uid)
        if before is not None and before.changed_at > changed_at and not force:
            return before
        stored = _in_utc(appointment)
        values = {
            "citizen_id": citizen_id,
            "service_code": service_code or appointment.service_id or "",
            "status": appointment.status.value, "starts_at": stored.start,
            "ends_at": stored.end, "visible_until": visible_until(appointment),
            "body": stored.model_dump(mode="json"), "changed_at": changed_at,
        }
        statement = self._db.insert(appointments).values(
            municipality=municipality, uid=appointment.uid, **values)
        statement = statement.on_conflict_do_update(
            index_elements=["municipality", "uid"], set_=values)
        conn.execute(statement)
        return before

    def get(self, municipality: str, uid: str) -> StoredAppointment | None:
        """The stored appointment ``uid``, or ``None``."""
        with self._db.read() as connection:
            return self._get(connection, municipality, uid)

    def _get(self, conn: Connection, municipality: str, uid: str) -> StoredAppointment | None:
        row = conn.execute(select(appointments).where(
            appointments.c.municipality == municipality, appointments.c.uid == uid)).first()
        return None if row is None else _stored(row)

    def of_citizen(self, municipality: str, citizen_id: str, *,
                   visible_after: datetime | None = None) -> list[StoredAppointment]:
        """The citizen's appointments still visible after ``visible_after``, by start time."""
        query = select(appointments).where(appointments.c.municipality == municipality,
                                           appointments.c.citizen_id == citizen_id)
        if visible_after is not None:
            query = query.where(appointments.c.visible_until > visible_after)
        with self._db.read() as connection:
            rows = connection.execute(
                query.order_by(appointments.c.starts_at, appointments.c.uid)).all()
        return [_stored(row) for row in rows]

    def replace_window(self, conn: Connection, municipality: str, citizen_id: str,
                       start: datetime, end: datetime, found: Iterable[Appointment], *,
                       service_codes: Iterable[str] | None = None, at: datetime) -> int:
        """Make the stored window ``[start, end)`` of a citizen what the EPJ reported.

        Stored appointments in the window that the EPJ no longer reports are
        removed (of ``service_codes`` only, when given); returns how many
        appointments the EPJ reported. The read is recorded (:meth:`window_read`).
        """
        found = list(found)
        # What was read is the EPJ's state now, so it replaces what is stored. It is dated a
        # little before ``at``: events carry the EPJ's clock, to the second at best, and one
        # from just before the read may be applied again (events come in order, so the
        # state converges), but one from well before it cannot undo what was read.
        as_of = at - READ_CLOCK_SKEW
        gone = delete(appointments).where(
            appointments.c.municipality == municipality,
            appointments.c.citizen_id == citizen_id,
            appointments.c.starts_at < end, appointments.c.ends_at > start,
            appointments.c.uid.not_in([a.uid for a in found]),
        )
        if service_codes is not None:
            gone = gone.where(appointments.c.service_code.in_(list(service_codes)))
        conn.execute(gone)
        for appointment in found:
            self.put(conn, municipality, citizen_id, appointment, changed_at=as_of, force=True)
        values = {"window_start": start, "window_end": end, "read_at": at}
        statement = self._db.insert(appointment_reads).values(
            municipality=municipality, citizen_id=citizen_id, **values)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["municipality", "citizen_id"], set_=values))
        return len(found)

    def window_read(self, municipality: str, citizen_id: str) -> datetime | None:
        """When the citizen's appointments were last read from the EPJ, or ``None``."""
        with self._db.read() as connection:
            return connection.execute(select(appointment_reads.c.read_at).where(
                appointment_reads.c.municipality == municipality,
                appointment_reads.c.citizen_id == citizen_id)).scalar()


def _stored(row: object) -> StoredAppointment:
    mapping = row._mapping  # type: ignore[attr-defined]
    return StoredAppointment(
        citizen_id=mapping["citizen_id"], service_code=mapping["service_code"],
        appointment=Appointment.model_validate(mapping["body"]),
        changed_at=mapping["changed_at"],
    )
