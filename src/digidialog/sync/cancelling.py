"""A citizen's cancellation, from the portal's ART to the EPJ and the decision back as 08 or 09.

:meth:`Cancelling.check` decides whether a request can go to the EPJ at all:
a relative needs a proxy that covers cancelling; a single visit must be the
citizen's, still to come, not already cancelled or done, in a service open to
them; a period must name services open to them and not be over. What fails
is answered ``09`` at once, with a reason the citizen understands (a relative
without the right gets ``30``).

What passes is kept (the request as the portal sent it) and registered in the
EPJ through its adapter; the EPJ's decision arrives later as an event and is
answered ``08`` (accepted) or ``09`` (rejected) in the request's thread,
naming the affected visits. A request the EPJ refuses outright (an unknown
visit, a closed service, an invalid period) is answered ``09`` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from digidialog.domain import (
    Action,
    Appointment,
    AppointmentStatus,
    CancellationDecision,
    CancellationKind,
    CancellationOutcome,
    CancellationReason,
    CancellationRequest,
)
from digidialog.helsenorge import Conversation, Function, PortalMessage
from digidialog.helsenorge.message import new_msg_id
from digidialog.log import get_logger
from digidialog.store import Store
from digidialog.sync import jobs
from digidialog.sync.access import DirectoryView, Refusal, proxy_refusal, service_refusal
from digidialog.sync.context import Municipality
from digidialog.sync.directory import Directory
from digidialog.sync.visits import for_portal
from digidialog.sync.window import read_window

log = get_logger("sync.cancelling")

ACCEPTED, REJECTED = "08", "09"

NOT_FOUND_TEXT = "Vi finner ikke dette besøket blant dine avtaler."
PAST_TEXT = "Besøket har allerede vært, og kan ikke avbestilles."
ALREADY_CANCELLED_TEXT = "Besøket er allerede avlyst."
PERIOD_OVER_TEXT = "Perioden er allerede passert."
UNKNOWN_SERVICE_TEXT = "Tjenesten du valgte tar ikke imot avbestillinger digitalt."
ACCEPTED_TEXT = "Avbestillingen er registrert."
REJECTED_TEXT = "Avbestillingen kunne ikke gjennomføres. Ta kontakt med tjenesten."


@dataclass(frozen=True)
class PreparedAnswer:
    """The answer to a decision, built and ready to be recorded."""

    decision: CancellationDecision
    citizen_id: str
    reply: PortalMessage
    cancelled: tuple[tuple[Appointment, str], ...]


class Cancelling:
    """Cancellations of one municipality: checked, registered, answered."""

    def __init__(self, store: Store, municipality: Municipality, directory: Directory, *,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.m = municipality
        self.directory = directory
        self.services = DirectoryView(directory)
        self.clock = clock

    # ------------------------------------------------------------ the request

    def check(self, message: PortalMessage, request: CancellationRequest) -> Refusal | None:
        """Why the request cannot go to the EPJ (``None``: it can). May read the EPJ."""
        now = self.clock()
        relative = message.on_behalf_of.to_person() if message.on_behalf_of else None
        refused = proxy_refusal(self.store, self.m.her_id, request.citizen_id, relative,
                                Action.CANCEL_APPOINTMENT, now,
                                require_registered=self.m.require_registered_proxy)
        if refused is not None:
            return refused
        if request.kind is CancellationKind.SINGLE:
            return self._single_refusal(request, now)
        if request.end <= now:
            return _rejected(PERIOD_OVER_TEXT, "period over")
        for service_id in request.service_ids:
            route = self.m.route_for_service_id(service_id)
            if route is None:
                return _rejected(UNKNOWN_SERVICE_TEXT, "unknown service")
            refused = service_refusal(self.services, request.citizen_id, route.vendor_code)
            if refused is not None:
                return _rejected(refused.text, refused.reason)
        return None

    def _single_refusal(self, request: CancellationRequest, now: datetime) -> Refusal | None:
        uid = request.appointment_uid or ""
        stored = self.store.appointments.get(self.m.her_id, uid)
        if stored is None or stored.citizen_id != request.citizen_id:
            # Not known here yet: the EPJ is asked once before the citizen is told no.
            read_window(self.store, self.m, request.citizen_id, now)
            stored = self.store.appointments.get(self.m.her_id, uid)
        if stored is None or stored.citizen_id != request.citizen_id:
            return _rejected(NOT_FOUND_TEXT, "not the citizen's visit")
        visit = stored.appointment
        if visit.status is AppointmentStatus.CANCELLED:
            return _rejected(ALREADY_CANCELLED_TEXT, "already cancelled")
        if visit.status is AppointmentStatus.COMPLETED or visit.end <= now:
            return _rejected(PAST_TEXT, "visit past")
        refused = service_refusal(self.services, request.citizen_id, stored.service_code)
        if refused is None and self.m.route_of(stored.service_code) is None:
            refused = _rejected(UNKNOWN_SERVICE_TEXT, "service not configured")
        return None if refused is None else _rejected(refused.text, refused.reason)

    def for_epj(self, request: CancellationRequest) -> CancellationRequest:
        """The request in the EPJ's terms: its service codes, not the portal's TjenesteIds."""
        if request.kind is CancellationKind.SINGLE:
            stored = self.store.appointments.get(self.m.her_id, request.appointment_uid or "")
            codes: tuple[str, ...] = (stored.service_code,) if stored is not None else ()
        else:
            routes = [self.m.route_for_service_id(s) for s in request.service_ids]
            codes = tuple(r.vendor_code for r in routes if r is not None)
        return request.model_copy(update={"service_ids": codes})

    def accept_request(self, conn: Connection, message: PortalMessage,
                       request: CancellationRequest, now: datetime) -> None:
        """Keep the request and add the job that registers it in the EPJ."""
        self.store.cancellations.add(conn, request_id=request.request_id,
                                     municipality=self.m.her_id, citizen_id=request.citizen_id,
                                     request=message.model_dump(mode="json"), at=now)
        self.store.outbox.add(conn, municipality=self.m.her_id, kind=jobs.EPJ_CANCEL,
                              key=f"cancel:{request.request_id}",
                              payload=self.for_epj(request).model_dump_json().encode(),
                              meta={"msg_id": request.request_id})

    # ------------------------------------------------------------ the answer

    def prepare_answer(self, decision: CancellationDecision, now: datetime
                       ) -> PreparedAnswer | None:
        """Build the answer to a decision (reading the store and the EPJ's directory, outside
        any transaction); ``None`` when the request is not one digidialog registered."""
        stored = self.store.cancellations.get(decision.request_id)
        if stored is None:
            log.warning("decision on a cancellation not registered by digidialog",
                        request_id=decision.request_id)
            return None
        request = PortalMessage.model_validate(stored.request)
        cancelled = self._cancelled_visits(request, decision)
        shown = tuple(for_portal(visit, route, self.directory.service_name(route.vendor_code),
                                 self.m)
                      for visit, code in cancelled
                      if (route := self.m.route_of(code)) is not None)
        reply = self.reply(request, decision.outcome, now, comment=decision.comment,
                           affected=shown)
        return PreparedAnswer(decision, stored.citizen_id, reply, cancelled)

    def record_answer(self, conn: Connection, prepared: PreparedAnswer, now: datetime) -> bool:
        """Record the decision and add the answer's send job; ``False`` when answered before."""
        decision = prepared.decision
        if not self.store.cancellations.decide(conn, decision.request_id,
                                               outcome=decision.outcome.value,
                                               affected=decision.affected_uids, at=now):
            return False
        for visit, code in prepared.cancelled:
            self.store.appointments.put(conn, self.m.her_id, prepared.citizen_id, visit,
                                        service_code=code, changed_at=now)
        jobs.enqueue_portal_message(self.store, conn, municipality=self.m.her_id,
                                    key=answer_key(decision.request_id),
                                    message=prepared.reply, portal_her_id=self.m.portal_her_id,
                                    at=now, citizen_id=prepared.citizen_id)
        log.info("cancellation answered", request_id=decision.request_id,
                 code=prepared.reply.code, affected=len(prepared.cancelled))
        return True

    def reply(self, request: PortalMessage, outcome: CancellationOutcome, now: datetime, *,
              comment: str | None = None, affected: tuple[Appointment, ...] = ()
              ) -> PortalMessage:
        """08 or 09 to ``request``, in its process and thread."""
        accepted = outcome is CancellationOutcome.ACCEPTED
        root = request.conversation.root if request.conversation else request.msg_id
        return PortalMessage(
            process=request.process, function=Function.CANCELLATION_REPLY,
            code=ACCEPTED if accepted else REJECTED, msg_id=new_msg_id(), generated_at=now,
            conversation=Conversation(parent=request.msg_id, root=root),
            sender=request.receiver, receiver=request.sender, patient=request.patient,
            decision=outcome, body=comment or (ACCEPTED_TEXT if accepted else REJECTED_TEXT),
            appointments=affected,
        )

    def _cancelled_visits(self, request: PortalMessage, decision: CancellationDecision
                          ) -> tuple[tuple[Appointment, str], ...]:
        """The affected visits as now cancelled, each with its service code."""
        if not decision.accepted:
            return ()
        reason = (CancellationReason.ON_BEHALF_OF_CITIZEN if request.on_behalf_of
                  else CancellationReason.BY_CITIZEN)
        cancelled: list[tuple[Appointment, str]] = []
        for uid in decision.affected_uids:
            stored = self.store.appointments.get(self.m.her_id, uid)
            if stored is None:
                continue
            visit = stored.appointment.model_copy(update={
                "status": AppointmentStatus.CANCELLED, "cancellation_reason": reason,
                "recurrence": None, "employees": ()})
            cancelled.append((visit, stored.service_code))
        return tuple(cancelled)


def answer_key(request_id: str) -> str:
    """The send job of the one answer a cancellation request gets, whatever decides it."""
    return f"cancellation-answer:{request_id}"


def _rejected(text: str, reason: str) -> Refusal:
    return Refusal(REJECTED, text, reason)
