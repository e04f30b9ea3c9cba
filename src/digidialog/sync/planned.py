"""What a citizen sees when the portal asks for their visits (HentPlanlagteTimer), from the store.

The portal asks synchronously and gives up after about eight seconds, so the
answer is built from what the store holds (appointments, the roster of
services and recipients, registered proxies) and never from a call to the
EPJ. The rules, in the order they are applied:

1. **Who asks.** A relative acting for the citizen (Pasientrelasjon) must hold
   a proxy covering "see appointments" (:func:`~digidialog.sync.access.proxy_refusal`),
   else ``30``. This is judged first, so that a relative without the right
   learns nothing about which services the citizen receives.
2. **Which services.** A request addressed to a service (its level-2 HER-id)
   is about that service only: an unknown HER-id, a closed service or one the
   citizen does not receive is ``26``. A request addressed to the
   municipality alone covers every configured service that is open and that
   the citizen receives (none: ``02``).
3. **Which visits** (:func:`is_shown`). Those of the municipality's
   ``statuses`` among planned, assigned and cancelled that are not past: a
   visit is past when it has ended, a planned series when its last occurrence
   has. Completed visits are never in the answer (they were pushed as ``MOA``
   when they happened).
4. **How each is shown** (:func:`presented`): the service's Helsenorge
   TjenesteId (not the EPJ's code), the service's name as summary,
   ``Hjemmebesøk`` as location, the municipality as organizer and the
   service's HER-id as contact; a planned window carries no employee.

Nothing to show is ``02``; otherwise ``01`` with the visits in start order.
A citizen whose appointments were never read from the EPJ gets a read job
(:func:`~digidialog.sync.jobs.enqueue_first_read`); the answer meanwhile is
what the store holds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from digidialog.domain import Action, Appointment, AppointmentStatus, CancellationReason
from digidialog.helsenorge import Conversation, Function, Party, PortalMessage
from digidialog.helsenorge.message import new_msg_id
from digidialog.store import Store, StoredAppointment
from digidialog.store.appointments import visible_until
from digidialog.sync import jobs
from digidialog.sync.access import Refusal, RosterView, proxy_refusal, service_refusal
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.outgoing import REFUSED

LOCATION = "Hjemmebesøk"
"""Where every home visit takes place, as the portal shows it."""

SHOWABLE = frozenset({AppointmentStatus.PLANNED, AppointmentStatus.ASSIGNED,
                      AppointmentStatus.CANCELLED})
"""The statuses this answer can carry; completed visits are pushed as they happen instead."""

GENERAL_ERROR = "31"
"""Dialogmelding code: the request could not be answered (our failure, not the citizen's)."""

REFUSAL_SUBJECT = "Timeavtaler kan ikke vises"
UNAVAILABLE_TEXT = "Besøkene dine kan ikke vises akkurat nå. Prøv igjen litt senere."
UNKNOWN_SERVICE_TEXT = "Tjenesten finnes ikke, eller tar ikke imot digitale henvendelser."


@dataclass(frozen=True)
class Answer:
    """The message that answers a request, and a few words on why, for logs."""

    message: PortalMessage
    outcome: str
    """``shown``, ``none`` or the refusal's reason (never names or ids)."""
    shown: int = 0


def is_shown(appointment: Appointment, statuses: Collection[str], now: datetime) -> bool:
    """Whether the visit belongs in the answer under the municipality's ``statuses``."""
    status = appointment.status
    return (status in SHOWABLE and status.value in statuses
            and visible_until(appointment) > now)


def presented(stored: StoredAppointment, route: ServiceRoute, service_name: str,
              organizer: str) -> Appointment:
    """The stored visit as the portal shows it, in the service ``route`` leads to."""
    appointment = stored.appointment
    updates: dict[str, object] = {
        "service_id": route.service_id, "service_name": service_name,
        "contact_her_id": route.her_id, "organizer": organizer, "location": LOCATION,
    }
    if appointment.status is AppointmentStatus.PLANNED:
        updates["employees"] = ()  # a time window, not yet given to anyone
    if appointment.status is AppointmentStatus.CANCELLED and \
            appointment.cancellation_reason is None:
        # The EPJ cancelled it without saying who asked: the service did.
        updates["cancellation_reason"] = CancellationReason.BY_SERVICE
    return appointment.model_copy(update=updates)


def reply_party(municipality: Municipality, route: ServiceRoute | None,
                service_name: str | None) -> Party:
    """Who answers: the municipality, and the service when the request named one."""
    if route is None:
        return Party(her_ids=(municipality.her_id,), names=(municipality.name,))
    return municipality.service_party(route, service_name or route.vendor_code)


def planned_reply(request: PortalMessage, sender: Party, appointments: Iterable[Appointment],
                  at: datetime) -> PortalMessage:
    """SvarPlanlagteTimer: ``01`` with the visits, or ``02`` when there are none."""
    shown = tuple(appointments)
    return _answer(request, sender, at, function=Function.PLANNED_APPOINTMENTS_REPLY,
                   code="01" if shown else "02", appointments=shown)


def synchronous_refusal(request: PortalMessage, sender: Party, refusal: Refusal, at: datetime
                        ) -> PortalMessage:
    """A refusal (26, 30 or 31) of a synchronous request: in its process, asking no AppRec."""
    return _answer(request, sender, at, function=Function.REFUSAL, code=refusal.code,
                   subject=REFUSAL_SUBJECT, body=refusal.text)


def _answer(request: PortalMessage, sender: Party, at: datetime, **fields: object
            ) -> PortalMessage:
    root = request.conversation.root if request.conversation else request.msg_id
    return PortalMessage.model_validate({
        "process": request.process, "msg_id": new_msg_id(), "generated_at": at, "ack": False,
        "conversation": Conversation(parent=request.msg_id, root=root), "sender": sender,
        "receiver": request.sender, "patient": request.patient, **fields,
    })


class RosterSnapshot(RosterView):
    """The roster as one request sees it: each table read once, however often it is asked.

    A request asks about every configured service; :class:`RosterView` would
    read the roster again for each question, and on PostgreSQL each read is a
    few round trips the portal waits for.
    """

    def __init__(self, store: Store, municipality: str, citizen_id: str) -> None:
        super().__init__(store, municipality)
        self.citizen_id = citizen_id
        self.services = store.roster.services(municipality)
        self._received: set[str] | None = None

    def is_open(self, code: str) -> bool:
        """Open when last listed."""
        service = self.services.get(code)
        return service is not None and service.open_for_dialog

    def receives(self, citizen_id: str, code: str) -> bool:
        """A recipient when last listed."""
        if citizen_id != self.citizen_id:
            return super().receives(citizen_id, code)
        if self._received is None:
            self._received = self.store.roster.services_of(self.municipality, citizen_id)
        return code in self._received

    def name(self, code: str) -> str | None:
        """The service's name as the EPJ lists it."""
        service = self.services.get(code)
        return service.name if service is not None and service.name else None


class PlannedAppointments:
    """Answers HentPlanlagteTimer for one municipality from the store."""

    def __init__(self, store: Store, municipality: Municipality,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.m = municipality
        self.clock = clock
        # Citizens whose window was read: a read is never undone, so asking again is waste.
        self._read: set[str] = set()

    def answer(self, request: PortalMessage) -> Answer:
        """The answer to ``request``, a decoded HBT addressed to this municipality."""
        now = self.clock()
        patient = request.patient
        if patient is None:  # the codec's profile requires it; kept for the type checker
            raise ValueError("HentPlanlagteTimer without a Patient")
        view = RosterSnapshot(self.store, self.m.her_id, patient.id)
        named = _service_her_id(request, self.m.her_id)
        route = self.m.route_to(named) if named is not None else None
        sender = reply_party(self.m, route, view.name(route.vendor_code) if route else None)
        relative = request.on_behalf_of.to_person() if request.on_behalf_of else None
        refusal = proxy_refusal(self.store, self.m.her_id, patient.id, relative,
                                Action.VIEW_APPOINTMENTS, now,
                                require_registered=self.m.require_registered_proxy)
        if refusal is None and named is not None:
            refusal = (Refusal(REFUSED, UNKNOWN_SERVICE_TEXT, "unknown service")
                       if route is None else
                       service_refusal(view, patient.id, route.vendor_code))
        if refusal is not None:
            return Answer(synchronous_refusal(request, sender, refusal, now), refusal.reason)
        routes = [route] if route is not None else [
            r for r in self.m.routes
            if view.is_open(r.vendor_code) and view.receives(patient.id, r.vendor_code)]
        if routes:
            self._read_first(patient.id)
        shown = self.visits(patient.id, routes, {
            code: service.name for code, service in view.services.items()}, now)
        return Answer(planned_reply(request, sender, shown, now),
                      "shown" if shown else "none", len(shown))

    def general_error(self, request: PortalMessage, reason: str) -> Answer:
        """``31``: the answer could not be made (the store is away, or a fault of ours)."""
        refusal = Refusal(GENERAL_ERROR, UNAVAILABLE_TEXT, reason)
        sender = Party(her_ids=(self.m.her_id,), names=(self.m.name,))
        return Answer(synchronous_refusal(request, sender, refusal, self.clock()), reason)

    def visits(self, citizen_id: str, routes: Collection[ServiceRoute],
               names: dict[str, str], now: datetime) -> list[Appointment]:
        """The citizen's visits in the services of ``routes`` that are shown now, presented."""
        by_code = {route.vendor_code: route for route in routes}
        if not by_code:
            return []
        statuses = self.m.statuses
        return [
            presented(stored, route, names.get(stored.service_code) or
                      stored.appointment.service_name or stored.service_code, self.m.name)
            for stored in self.store.appointments.of_citizen(self.m.her_id, citizen_id,
                                                             visible_after=now)
            if (route := by_code.get(stored.service_code)) is not None
            and is_shown(stored.appointment, statuses, now)
        ]

    def _read_first(self, citizen_id: str) -> None:
        """A citizen never read from the EPJ gets a read job (keyed: added once)."""
        if citizen_id in self._read:
            return
        if self.store.appointments.window_read(self.m.her_id, citizen_id) is not None:
            self._read.add(citizen_id)
            return
        with self.store.transaction() as conn:
            jobs.enqueue_first_read(self.store, conn, municipality=self.m.her_id,
                                    citizen_id=citizen_id)


def _service_her_id(request: PortalMessage, municipality_her_id: str) -> str | None:
    """The level-2 HER-id the request is addressed to, or ``None`` for the municipality alone.

    A second level known only by its organisation number names no service we
    can find: it is returned as an empty id, which no route has.
    """
    levels = request.receiver.her_ids
    if len(levels) < 2:
        return None
    service = levels[1]
    if service == municipality_her_id:
        return None
    return service or ""

