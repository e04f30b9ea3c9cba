"""Appointments written in bulk, for the nightly reconciliation of a whole export.

:meth:`Appointments.replace_window <digidialog.store.appointments.Appointments.replace_window>`
replaces one citizen's window with what the EPJ reported, which is how the
page-by-page vendors are reconciled. An export (CosDoc's, of one day for
every digitally active patient) arrives in no citizen order and is too large
to hold, so it is reconciled by mark and sweep instead: every record is
written as it streams past (:meth:`BulkAppointments.put_many`, stamped with
the time the day's export began), then whatever of that day the export did
not report, of the citizens it covers, is deleted (:meth:`sweep`): its stamp
is older. A change the engine stored meanwhile carries a newer stamp and
survives. Rows are the same as the store's own (``visible_until``, UTC body).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, delete, select

from digidialog.domain import Appointment
from digidialog.store.appointments import _in_utc, visible_until
from digidialog.store.database import Database
from digidialog.store.schema import appointment_reads, appointments, citizens, nightly_citizens


class BulkAppointments:
    """Whole batches of appointments in one statement, and the sweep after an export."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put_many(self, conn: Connection, municipality: str,
                 found: Sequence[tuple[str, Appointment]], *, changed_at: datetime) -> int:
        """Store ``(citizen_id, appointment)`` pairs; a row changed later is kept as it is."""
        if not found:
            return 0
        rows = []
        for citizen_id, appointment in found:
            stored = _in_utc(appointment)
            rows.append({
                "municipality": municipality, "uid": appointment.uid, "citizen_id": citizen_id,
                "service_code": appointment.service_id or "",
                "status": appointment.status.value, "starts_at": stored.start,
                "ends_at": stored.end, "visible_until": visible_until(appointment),
                "body": stored.model_dump(mode="json"), "changed_at": changed_at,
            })
        statement = self._db.insert(appointments)
        columns = ("citizen_id", "service_code", "status", "starts_at", "ends_at",
                   "visible_until", "body", "changed_at")
        statement = statement.on_conflict_do_update(
            index_elements=["municipality", "uid"],
            set_={name: statement.excluded[name] for name in columns},
            where=appointments.c.changed_at <= statement.excluded.changed_at,
        )
        conn.execute(statement, rows)
        return len(rows)

    def sweep(self, conn: Connection, municipality: str, *, run_id: int, start: datetime,
              end: datetime, before: datetime) -> int:
        """Delete what starts in ``[start, end)``, written before ``before``, of the run's
        digitally active recipients (those an export covers); how many rows went."""
        covered = select(nightly_citizens.c.citizen_id).join(citizens, and_(
            citizens.c.municipality == nightly_citizens.c.municipality,
            citizens.c.citizen_id == nightly_citizens.c.citizen_id,
        )).where(nightly_citizens.c.municipality == municipality,
                 nightly_citizens.c.seen_run == run_id, citizens.c.active.is_(True))
        statement = delete(appointments).where(
            appointments.c.municipality == municipality,
            appointments.c.starts_at >= start, appointments.c.starts_at < end,
            appointments.c.changed_at < before,
            appointments.c.citizen_id.in_(covered),
        )
        return conn.execute(statement).rowcount

    def mark_read(self, conn: Connection, municipality: str, citizen_ids: Sequence[str], *,
                  start: datetime, end: datetime, at: datetime) -> None:
        """Record that these citizens' window ``[start, end)`` was read from the EPJ at ``at``."""
        if not citizen_ids:
            return
        values = {"window_start": start, "window_end": end, "read_at": at}
        statement = self._db.insert(appointment_reads)
        statement = statement.on_conflict_do_update(
            index_elements=["municipality", "citizen_id"],
            set_={name: statement.excluded[name] for name in values})
        conn.execute(statement, [{"municipality": municipality, "citizen_id": citizen, **values}
                                 for citizen in citizen_ids])
