"""ProfilAdapter: the EpjAdapter contract over Profil's CitizenDialogService.

What it hides from the engine: SOAP 1.2 with HTTP Basic, Oslo wall-clock times
with ``isDst`` (and never a time from the skipped spring hour), numeric ids,
ContinuationToken paging, the push feed (events stored by the NotifyEvent
endpoint, details fetched when read), the at-least-once outbox, and period
cancellations expanded into one ``CancelVisit`` per visit with one answer.

Settings (``AdapterSettings.options``):

- ``event_store``: the SQLite file the push endpoint writes and the feed reads
  (default ``.digidialog/profil-events.sqlite3`` under the working directory);
- ``push_listen``: ``host:port`` to host the NotifyEvent endpoint from this
  adapter (leave it out when the endpoint runs elsewhere on the same store);
- ``push_username``, ``push_password``: the credentials Profil pushes with;
- ``push_path``: the endpoint's path (default ``/ProfilNotify``);
- ``outbox_batch``: MaxCount of each outbox read (1-200, default 200).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import zeep
from lxml import etree

from digidialog.adapters.contract import (
    Authentication,
    Capabilities,
    ChangeBatch,
    ChangeSource,
    CitizenMessage,
    CitizenRecord,
    DigitalStatusUpdate,
    EpjReceipt,
    PeriodCancellation,
    VendorService,
)
from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import (
    CallPolicy,
    SoapEndpoint,
    SoapVersion,
    load_client,
    new_session,
)
from digidialog.domain import Appointment, CancellationKind, CancellationRequest
from digidialog.domain.events import StaffMessage, StaffMessageWritten
from digidialog.errors import (
    FatalError,
    MalformedReply,
    UnknownAppointment,
    VendorRejected,
)
from digidialog.log import get_logger
from digidialog_profil import cancellation, mapping, outgoing
from digidialog_profil.appointments import single_visit, visits_page
from digidialog_profil.faults import map_fault, narrow
from digidialog_profil.feed import OUTBOX_FULL, Feed, local_check, outbox_sweep
from digidialog_profil.push import DEFAULT_PATH, NotifyEndpoint, PushServer
from digidialog_profil.store import EventStore
from digidialog_profil.wire import CITIZEN_WSDL, MAX_OUTBOX_COUNT, SERVICE_PATH, action, schema_file

log = get_logger("profil")

DEFAULT_EVENT_STORE = Path(".digidialog") / "profil-events.sqlite3"
MAX_PAGES = 10_000
"""A bound on GetVisits pages, so a vendor that never stops paging cannot loop us forever."""


@cache
def _client() -> zeep.Client:
    # Loading the WSDL is the slow part of making an adapter; the client only builds
    # requests and holds no connection, so one serves every adapter in the process.
    return load_client(schema_file(CITIZEN_WSDL))


class ProfilAdapter:
    """The Profil EPJ behind the :class:`~digidialog.adapters.contract.EpjAdapter` contract."""

    def __init__(self, settings: AdapterSettings, *, policy: CallPolicy | None = None,
                 store: EventStore | None = None) -> None:
        options = settings.options
        self._session = new_session()
        if settings.username is not None and settings.password is not None:
            self._session.auth = (settings.username, settings.password)
        self._endpoint = SoapEndpoint(
            _client(), settings.base_url.rstrip("/") + SERVICE_PATH, self._session,
            version=SoapVersion.V12, action=action, fault_mapper=map_fault,
            policy=policy or CallPolicy(timeout=settings.timeout),
        )
        self._push_username = str(options.get("push_username") or "")
        self._push_password = str(options.get("push_password") or "")
        self._push_path = str(options.get("push_path") or DEFAULT_PATH)
        self._owns_store = store is None
        self.store = store or EventStore(options.get("event_store") or DEFAULT_EVENT_STORE)
        try:
            self._feed = Feed(self.store, self,
                              int(options.get("outbox_batch", MAX_OUTBOX_COUNT)))
            self._push = _push_server(options, self.store)
        except BaseException:
            self.close_store()
            raise

    @property
    def capabilities(self) -> Capabilities:
        """Push feed, expanded period cancellation, HTTP Basic, SOAP 1.2, local times."""
        return Capabilities(
            vendor="profil", change_source=ChangeSource.PUSH,
            period_cancellation=PeriodCancellation.EXPANDED,
            authentication=Authentication.HTTP_BASIC, soap_version="1.2",
            max_page_size=None, local_times=True,
        )

    @property
    def push_url(self) -> str | None:
        """Where this adapter's own push endpoint listens, if it hosts one."""
        return None if self._push is None else self._push.url

    # ------------------------------------------------------------ calls

    def _call(self, operation: str, **params: Any) -> etree._Element:
        try:
            return self._endpoint.call(operation, **params)
        except VendorRejected as error:
            narrowed = narrow(error, operation)
            if narrowed is error:
                raise
            raise narrowed from error

    # ------------------------------------------------------------ reads

    def services(self) -> list[VendorService]:
        """GetServices: every service, with DigitalDialogEnabled as openness."""
        return mapping.services(self._call("GetServices"))

    def citizens(self, service_code: str | None = None) -> Iterator[CitizenRecord]:
        """GetClients (one answer, Profil does not page it), optionally for one service."""
        yield from mapping.citizens(self._call("GetClients", **outgoing.clients(service_code)))

    def appointments(self, citizen_id: str, start: datetime, end: datetime) -> list[Appointment]:
        """GetVisits over every ContinuationToken page; times converted from Oslo wall clock."""
        query = outgoing.visits(citizen_id, start, end)
        found: dict[str, Appointment] = {}
        seen: set[str] = set()
        token: str | None = None
        for _ in range(MAX_PAGES):
            reply = self._call("GetVisits", **query, ContinuationToken=token)
            page, token = visits_page(reply, citizen_id)
            for appointment in page:
                found[appointment.uid] = appointment  # a visit moved between pages counts once
            if token is None:
                return list(found.values())
            if token in seen:
                raise MalformedReply("Profil handed out the same continuation token twice")
            seen.add(token)
        raise MalformedReply(f"Profil returned more than {MAX_PAGES} pages of visits")

    # The feed's two reads (feed.VendorReader).

    def visit(self, visit_id: int) -> tuple[Appointment, str] | None:
        """GetVisit: the visit and its owner, or None when Profil no longer knows it."""
        try:
            return single_visit(self._call("GetVisit", VisitId=visit_id))
        except UnknownAppointment:
            return None

    def outbox(self, max_count: int) -> list[StaffMessage]:
        """GetOutboxMessages: unacknowledged staff messages (the same again until acked)."""
        return mapping.staff_messages(self._call("GetOutboxMessages", MaxCount=max_count))

    # ------------------------------------------------------------ change feed

    def changes(self, checkpoint: str | None, limit: int = 500) -> ChangeBatch:
        """Pushed events stored after ``checkpoint``, with their details fetched."""
        return self._feed.changes(checkpoint, limit)

    def acknowledge(self, batch: ChangeBatch) -> None:
        """AckOutboxMessages for the staff messages in the batch (the engine has stored them)."""
        ids = list(dict.fromkeys(
            int(e.message.vendor_message_id) for e in batch.events
            if isinstance(e, StaffMessageWritten)))
        for first in range(0, len(ids), MAX_OUTBOX_COUNT):
            self._call("AckOutboxMessages", MessageId=ids[first:first + MAX_OUTBOX_COUNT])
        if self.store.set_flag(OUTBOX_FULL, False):
            outbox_sweep(self.store)

    # ------------------------------------------------------------ writes

    def set_digital_status(self, updates: Sequence[DigitalStatusUpdate]) -> int:
        """SetDigitalStatus for all updates in one call; Profil's count of updated clients."""
        if not updates:
            return 0
        reply = self._call("SetDigitalStatus", **outgoing.digital_status(updates))
        return mapping.integer(reply, "Updated")

    def deliver_message(self, message: CitizenMessage) -> EpjReceipt:
        """PostInboxMessage, idempotent on our message id (Profil's ExternalId)."""
        reply = self._call("PostInboxMessage", **outgoing.inbox_message(message))
        return EpjReceipt(accepted=True, epj_reference=str(mapping.integer(reply, "MessageId")))

    def register_cancellation(self, request: CancellationRequest) -> EpjReceipt:
        """One CancelVisit per visit (a period is expanded first); the answer comes as one event.

        The expansion is stored before the first call, so a repeated request
        repeats the same calls (each idempotent on its ExternalId) and a
        decision pushed at once finds the request it belongs to.
        """
        outgoing.national_id(request.citizen_id)
        plan = self.store.planned(request.request_id)
        if plan is None:
            if request.kind is CancellationKind.SINGLE:
                expansion = cancellation.Expansion(
                    cancel=(cancellation.visit_number(request.appointment_uid),), refuse=())
            else:
                expansion = cancellation.expand(
                    request, self.appointments(request.citizen_id, request.start, request.end))
            self.store.plan(request.request_id, request.citizen_id, expansion.cancel,
                            expansion.refuse)
            plan = self.store.planned(request.request_id) or []
        for visit_id, decided in plan:
            if decided:
                continue
            external_id = cancellation.external_id(request.request_id, visit_id)
            try:
                self._call("CancelVisit", **outgoing.cancel_visit(request, visit_id, external_id))
            except VendorRejected as error:
                if error.code is None:
                    raise  # our own request could not be built: not Profil's answer
                # Profil refused this visit outright (gone, done, in the past): it counts
                # as a rejected part of the one answer the citizen gets.
                log.info("cancel_visit_refused", request_id=request.request_id,
                         visit_id=visit_id, code=error.code)
                self.store.refuse(request.request_id, visit_id)
        # The answer is given when the last visit is decided. If that was decided here
        # (refused, or no visit at all), no pushed event would ever complete it: this
        # stored check does, and it is harmless when Profil's decisions complete it.
        local_check(self.store, request.request_id, request.citizen_id)
        return EpjReceipt(accepted=True, epj_reference=",".join(str(v) for v, _ in plan) or None)

    def push_endpoint(self) -> NotifyEndpoint | None:
        """The NotifyEvent endpoint for the daemon to host, when push credentials are set.

        It stores what Profil pushes in this adapter's event store, which
        :meth:`changes` reads; Profil is configured to push to
        ``<daemon>/epj/<municipality her_id><push_path>``.
        """
        if not self._push_username:
            return None
        return NotifyEndpoint(self.store, self._push_username, self._push_password,
                              path=self._push_path)

    def close(self) -> None:
        """Stop the push endpoint (if hosted here), close the HTTP session and the store."""
        if self._push is not None:
            self._push.stop()
        self._session.close()
        self.close_store()

    def close_store(self) -> None:
        """Close the event store if this adapter opened it."""
        if self._owns_store:
            self.store.close()


def _push_server(options: dict[str, Any], store: EventStore) -> PushServer | None:
    """The NotifyEvent endpoint this adapter hosts, when ``push_listen`` asks for one."""
    listen = options.get("push_listen")
    if not listen:
        return None
    host, _, port = str(listen).rpartition(":")
    try:
        endpoint = NotifyEndpoint(store, str(options.get("push_username") or ""),
                                  str(options.get("push_password") or ""),
                                  path=str(options.get("push_path") or DEFAULT_PATH))
        return PushServer(endpoint, host or "127.0.0.1", int(port)).start()
    except (ValueError, OSError) as error:
        raise FatalError(f"the Profil push endpoint cannot listen on {listen}: {error}") from None

