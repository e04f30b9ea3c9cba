"""What the EPJ reports about visits, kept for the portal and told to it in real time.

Every appointment event updates the store's copy (the portal's questions are
answered from it). Some changes are also pushed to the citizen at once, as
Avtaleutsending, each exactly once (keyed by the visit and what happened to it):

- a visit registered done: ``MOA`` with status ``COMPLETED`` (when the
  municipality shows completed visits);
- a visit the citizen knew of moved to another time: ``07``;
- a visit cancelled by the service: ``08``; the citizen was not at home: ``11``.

A visit the portal never saw (new, or already past) is not pushed: the portal
asks for what is planned. Only the visits of citizens known to be digitally
active are kept and told; for anyone else a message would come back as
``E35``, and their visits are not digidialog's to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason
from digidialog.domain.events import AppointmentChanged, VisitCompleted
from digidialog.helsenorge import Function, PortalMessage, Process
from digidialog.helsenorge.message import new_msg_id
from digidialog.log import get_logger
from digidialog.store import Store, StoredAppointment
from digidialog.sync import jobs, outgoing
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.directory import Directory

log = get_logger("sync.visits")

LOCATION = "Hjemmebesøk"
"""Where a home visit happens, as the portal shows it."""

COMPLETED, CHANGED, CANCELLED, NOT_AT_HOME = "MOA", "07", "08", "11"


@dataclass(frozen=True)
class Notice:
    """A push to the portal decided from an event: its code and its idempotency key."""

    code: str
    key: str
    appointment: Appointment


def for_portal(appointment: Appointment, route: ServiceRoute, service_name: str,
               municipality: Municipality) -> Appointment:
    """The appointment as the portal shows it: TjenesteId, service name, owner, place."""
    return appointment.model_copy(update={
        "service_id": route.service_id, "service_name": service_name,
        "contact_her_id": route.her_id, "organizer": municipality.name,
        "location": appointment.location or LOCATION,
    })


def decide_notice(municipality: Municipality, before: StoredAppointment | None,
                  after: Appointment, now: datetime) -> Notice | None:
    """Which push, if any, the change from ``before`` to ``after`` calls for."""
    shown = municipality.statuses
    base = f"notice:{municipality.her_id}:{after.uid}"
    if after.status is AppointmentStatus.COMPLETED:
        if "completed" not in shown:
            return None
        return Notice(COMPLETED, f"{base}:completed", after)
    if before is None or after.end <= now:
        return None
    known = before.appointment
    if after.status is AppointmentStatus.CANCELLED:
        if known.status is AppointmentStatus.CANCELLED or known.status.value not in shown:
            return None
        if after.cancellation_reason is CancellationReason.NOT_AT_HOME:
            return Notice(NOT_AT_HOME, f"{base}:not-at-home", after)
        if after.cancellation_reason in (None, CancellationReason.BY_SERVICE):
            return Notice(CANCELLED, f"{base}:cancelled", after)
        return None  # the citizen cancelled: they were answered, or did it themselves
    moved = (after.start, after.end) != (known.start, known.end)
    if moved and after.status.value in shown and known.status is not AppointmentStatus.CANCELLED:
        stamp = f"{after.start.isoformat()}/{after.end.isoformat()}"
        return Notice(CHANGED, f"{base}:changed:{stamp}", after)
    return None


@dataclass(frozen=True)
class PreparedVisit:
    """An appointment event made ready: the appointment to store and the push, if any."""

    event: AppointmentChanged | VisitCompleted
    appointment: Appointment
    push: tuple[Notice, PortalMessage] | None
    keep: bool = True
    """Whether the appointment is stored (the citizen is digitally active)."""


class VisitNotices:
    """Keeps one municipality's appointments current and pushes what the citizen must hear."""

    def __init__(self, store: Store, municipality: Municipality, directory: Directory) -> None:
        self.store = store
        self.m = municipality
        self.directory = directory

    def prepare(self, event: AppointmentChanged | VisitCompleted, now: datetime
                ) -> PreparedVisit:
        """Decide (outside any transaction: it may ask the EPJ's directory) what the event
        changes and which push it calls for."""
        appointment = event.appointment
        if isinstance(event, VisitCompleted) and \
                appointment.status is not AppointmentStatus.COMPLETED:
            appointment = appointment.model_copy(update={
                "status": AppointmentStatus.COMPLETED,
                "completed_at": appointment.completed_at or event.occurred_at,
                "cancellation_reason": None, "recurrence": None})
        if not self._active(event.citizen_id):
            # Only the digitally active are kept: nobody else asks, and what the EPJ knows of
            # other people's visits has no business in digidialog's store. Becoming active
            # reads the citizen's visits (first contact, the nightly reconciliation).
            return PreparedVisit(event, appointment, None, keep=False)
        before = self.store.appointments.get(self.m.her_id, appointment.uid)
        stale = before is not None and before.changed_at > event.occurred_at
        # An event older than what is stored changes nothing, but a visit done is told
        # however the store learnt of it first (a window read may have seen it before).
        notice = decide_notice(self.m, before, appointment, now)
        if stale and appointment.status is not AppointmentStatus.COMPLETED:
            notice = None
        route = self.m.route_of(appointment.service_id or "")
        if notice is None or route is None:
            return PreparedVisit(event, appointment, None)
        return PreparedVisit(event, appointment,
                             (notice, self._message(notice, route, event.citizen_id, now)))

    def record(self, conn: Connection, prepared: PreparedVisit, now: datetime) -> str | None:
        """Store the appointment and add the push, if any; the code pushed."""
        event = prepared.event
        if prepared.keep:
            self.store.appointments.put(conn, self.m.her_id, event.citizen_id,
                                        prepared.appointment, changed_at=event.occurred_at)
        if prepared.push is None:
            return None
        notice, message = prepared.push
        jobs.enqueue_portal_message(self.store, conn, municipality=self.m.her_id,
                                    key=notice.key, message=message,
                                    portal_her_id=self.m.portal_her_id, at=now,
                                    citizen_id=event.citizen_id)
        log.info("visit notice queued", code=notice.code, event_id=event.event_id)
        return notice.code

    def _active(self, citizen_id: str) -> bool:
        status = self.store.citizens.status(self.m.her_id, citizen_id)
        return status is not None and status.active

    def _message(self, notice: Notice, route: ServiceRoute, citizen_id: str,
                 now: datetime) -> PortalMessage:
        name = self.directory.service_name(route.vendor_code)
        record = self.directory.recipient(citizen_id, route.vendor_code)
        patient = outgoing.patient_named(citizen_id, record.name if record else "")
        return PortalMessage(
            process=Process.AVTALEUTSENDING.value, function=Function.APPOINTMENT_NOTICE,
            code=notice.code, msg_id=new_msg_id(), generated_at=now,
            sender=self.m.service_party(route, name), receiver=self.m.portal_party,
            patient=patient,
            appointments=(for_portal(notice.appointment, route, name, self.m),),
        )
